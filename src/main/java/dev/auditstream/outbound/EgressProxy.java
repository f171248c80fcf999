package dev.auditstream.outbound;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The HTTP CONNECT proxy destination traffic leaves through (operator configuration, so its own address is never
 * checked as a destination's is), its credentials, and the destinations that bypass it.
 */
public record EgressProxy(String host, int port, String username, String password, NoProxy noProxy) {

    /**
     * The proxy {@code auditstream.egress.proxy} names ({@code http://host:port}, credentials possibly as its
     * userinfo), or null when none is set. {@code username}/{@code password} take precedence over the userinfo.
     */
    public static EgressProxy parse(String url, String username, String password, String noProxy) {
        if (url == null || url.isBlank()) {
            return null;
        }
        URI uri = URI.create(url.trim());
        if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null || uri.getPort() < 0
                || !(uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/"))) {
            throw new IllegalArgumentException("auditstream.egress.proxy must be http://host:port (an HTTP CONNECT proxy)");
        }
        String user = username;
        String secret = password;
        if (uri.getRawUserInfo() != null && user == null) {
            String[] parts = uri.getRawUserInfo().split(":", 2);
            user = URLDecoder.decode(parts[0], StandardCharsets.UTF_8);
            secret = parts.length > 1 ? URLDecoder.decode(parts[1], StandardCharsets.UTF_8) : "";
        }
        return new EgressProxy(uri.getHost(), uri.getPort(), user, user == null ? null : secret == null ? "" : secret,
                NoProxy.parse(noProxy));
    }

    /** The proxy's address as it resolves now (the operator's DNS, not checked as a destination). */
    public InetSocketAddress address() {
        return new InetSocketAddress(host, port);
    }

    /** {@code Basic …} for Proxy-Authorization, or null without credentials. */
    public String authorization() {
        return username == null ? null : "Basic " + Base64.getEncoder()
                .encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** Whether a connection to {@code host}, resolved to {@code address} (or null), goes around the proxy. */
    public boolean bypasses(String host, InetAddress address) {
        return noProxy.bypasses(host, address);
    }

    @Override
    public String toString() {
        // never the password
        return "http://" + host + ":" + port;
    }
}
