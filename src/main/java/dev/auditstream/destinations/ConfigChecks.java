package dev.auditstream.destinations;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.auditstream.api.Validation;

/**
 * Checks of stream config values shared by the destinations, reporting as {@code config.<member>}; and the rule
 * that customer-supplied URLs may not reach loopback, private, link-local or multicast addresses unless the
 * operator allows private destinations.
 */
public final class ConfigChecks {

    private final Validation errors;
    private final boolean allowPrivate;

    public ConfigChecks(Validation errors, boolean allowPrivate) {
        this.errors = errors;
        this.allowPrivate = allowPrivate;
    }

    public void unknownMembers(JsonNode config, Set<String> allowed, String prefix) {
        errors.unknownFields(config, allowed, "config." + prefix);
    }

    /** An optional string member; null when absent. */
    public String string(JsonNode config, String member, String field) {
        return errors.optionalString(config, member, "config." + field);
    }

    /** An optional member with a fixed set of values. */
    public String oneOf(JsonNode config, String member, String field, Set<String> allowed) {
        String value = string(config, member, field);
        if (value != null && !allowed.contains(value)) {
            errors.add("config." + field, "invalid", "config." + field + " must be one of " + allowed + ".");
            return null;
        }
        return value;
    }

    /** An optional URL member that must be https (http only where private destinations are allowed). */
    public String url(ObjectNode config, String member) {
        String value = string(config, member, member);
        if (value == null) {
            return null;
        }
        try {
            requireSafe(new URI(value), allowPrivate);
        } catch (URISyntaxException e) {
            errors.add("config." + member, "invalid_url", "config." + member + " is not a URL.");
        } catch (UnsafeDestinationException e) {
            errors.add("config." + member, "unsafe_url", e.getMessage());
        }
        return value;
    }

    public void add(String field, String code, String message) {
        errors.add("config." + field, code, message);
    }

    /**
     * Refuses URLs that are not http(s), and hosts that resolve to an address of this network (checked when a stream
     * is configured and again before every send, since DNS answers change).
     */
    public static void requireSafe(URI uri, boolean allowPrivate) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
        if (!scheme.equals("https") && !(allowPrivate && scheme.equals("http"))) {
            throw new UnsafeDestinationException("The URL must use https.");
        }
        if (uri.getHost() == null || uri.getHost().isBlank()) {
            throw new UnsafeDestinationException("The URL has no host.");
        }
        if (allowPrivate) {
            return;
        }
        try {
            for (InetAddress address : InetAddress.getAllByName(uri.getHost())) {
                if (address.isLoopbackAddress() || address.isSiteLocalAddress() || address.isLinkLocalAddress()
                        || address.isMulticastAddress() || address.isAnyLocalAddress() || isUniqueLocal(address)) {
                    throw new UnsafeDestinationException("The URL's host " + uri.getHost()
                            + " resolves to a loopback, private, link-local or multicast address.");
                }
            }
        } catch (UnknownHostException e) {
            throw new UnsafeDestinationException("The URL's host " + uri.getHost() + " does not resolve.");
        }
    }

    /** IPv6 fc00::/7, which InetAddress does not count as site-local. */
    private static boolean isUniqueLocal(InetAddress address) {
        byte[] bytes = address.getAddress();
        return bytes.length == 16 && (bytes[0] & 0xfe) == 0xfc;
    }

    /** A destination's answer, shortened for messages and the deliveries list. */
    public static String abbreviate(String text) {
        if (text == null) {
            return "";
        }
        String flat = text.replaceAll("\\s+", " ").trim();
        return flat.length() <= 300 ? flat : flat.substring(0, 300) + "…";
    }

    /** A URL the service will not send to. */
    public static final class UnsafeDestinationException extends RuntimeException {
        public UnsafeDestinationException(String message) {
            super(message);
        }
    }
}
