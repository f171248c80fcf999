package dev.auditstream.outbound;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

import org.apache.hc.client5.http.DnsResolver;

/**
 * Where destinations may be: https URLs (plain http only where private destinations are allowed) whose host is, or
 * resolves to, public unicast addresses only. As the HTTP client's resolver it is asked at every connect, and the
 * client connects to exactly the addresses it checked: a DNS answer that changes between the check and the
 * connection (rebinding) cannot slip through. Through an egress proxy the tunnel is asked for exactly these addresses
 * too ({@link ProxyTunnel}).
 */
public final class AddressGuard implements DnsResolver {

    private final HostResolver resolver;
    private final boolean allowPrivate;

    /** @param allowPrivate loopback and private addresses and plain http allowed (tests, on-prem destinations) */
    public AddressGuard(HostResolver resolver, boolean allowPrivate) {
        this.resolver = resolver;
        this.allowPrivate = allowPrivate;
    }

    public boolean allowPrivate() {
        return allowPrivate;
    }

    /**
     * A customer's destination URL, checked when a stream is configured: its form, and its host's addresses as they
     * resolve now (a host that does not resolve now may later: that is for delivery to find out and retry).
     */
    public URI checkUrl(String url) throws URISyntaxException {
        URI uri = new URI(url);
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
        if (!scheme.equals("https") && !(allowPrivate && scheme.equals("http"))) {
            throw new UnsafeDestinationException("The URL must use https.");
        }
        if (uri.getRawUserInfo() != null) {
            throw new UnsafeDestinationException("The URL may not carry a user name or password.");
        }
        if (uri.getHost() == null) {
            // java.net.URI takes no host that ends in a number unless it is a.b.c.d: say why
            String authority = uri.getRawAuthority();
            if (authority != null) {
                Addresses.literal(authority.replaceFirst(":[0-9]*$", ""));
            }
            throw new UnsafeDestinationException("The URL has no valid host name.");
        }
        try {
            resolve(uri.getHost());
        } catch (UnknownHostException notNow) {
            // delivery resolves again, and retries while it does not resolve
        }
        return uri;
    }

    /** The host's addresses, each of them allowed, or an {@link UnsafeDestinationException} naming what it is. */
    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
        InetAddress literal = Addresses.literal(host);
        InetAddress[] addresses;
        if (literal != null) {
            addresses = new InetAddress[] {literal};
        } else {
            try {
                addresses = resolver.resolve(host);
            } catch (UnknownHostException e) {
                throw new UnknownHostException("The host " + host + " does not resolve now (" + e.getMessage() + ")");
            }
            InetAddress[] named = new InetAddress[addresses.length];
            for (int i = 0; i < addresses.length; i++) {
                // each address carries the name it was resolved for: the egress proxy's NO_PROXY list matches names
                named[i] = InetAddress.getByAddress(host, addresses[i].getAddress());
            }
            addresses = named;
        }
        if (!allowPrivate) {
            for (InetAddress address : addresses) {
                String refusal = Addresses.refusal(address);
                if (refusal != null) {
                    throw new UnsafeDestinationException("The host " + host + " resolves to " + refusal
                            + ", which destinations may not be.");
                }
            }
        }
        return addresses;
    }

    @Override
    public List<InetSocketAddress> resolve(String host, int port) throws UnknownHostException {
        List<InetSocketAddress> endpoints = new ArrayList<>();
        for (InetAddress address : resolve(host)) {
            endpoints.add(new InetSocketAddress(address, port));
        }
        return endpoints;
    }

    @Override
    public String resolveCanonicalHostname(String host) {
        return host;
    }
}
