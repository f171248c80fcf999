package dev.auditstream.outbound;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * Which addresses a destination may not be: everything that is not public unicast, including IPv6 forms that carry
 * such an IPv4 address; and how a host written as an IP address is read.
 */
public final class Addresses {

    private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    private static final Pattern DOTTED_DECIMAL = Pattern.compile(OCTET + "(\\." + OCTET + "){3}");
    /** A label resolvers read as a number: decimal, octal (leading 0) or hexadecimal (0x). */
    private static final Pattern NUMBER = Pattern.compile("[0-9]+|0[xX][0-9a-fA-F]*");

    private Addresses() {
    }

    /** Why the address is refused, e.g. "a loopback address"; null for a public unicast address. */
    public static String refusal(InetAddress address) {
        byte[] bytes = address.getAddress();
        return bytes.length == 4 ? ipv4Refusal(bytes, 0, false) : ipv6Refusal(bytes);
    }

    /**
     * The address a host is when it is written as one, or null for a name. Resolvers read hosts that end in a number
     * as IPv4 addresses in inet_aton's forms (2130706433, 0177.0.0.1, 0x7f.1 and 127.1 are all 127.0.0.1), so only
     * the four decimal numbers a.b.c.d are taken; every other such form is refused as ambiguous. IPv6 addresses are
     * written in brackets or with colons.
     */
    public static InetAddress literal(String host) {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (bare.contains(":")) {
            try {
                // a literal with colons is parsed, never looked up
                return InetAddress.getByName(bare);
            } catch (UnknownHostException e) {
                throw new UnsafeDestinationException("The host " + host + " is not a valid IPv6 address.");
            }
        }
        String[] labels = bare.split("\\.", -1);
        String last = labels[labels.length - 1].isEmpty() && labels.length > 1 ? labels[labels.length - 2]
                : labels[labels.length - 1];
        if (!NUMBER.matcher(last).matches()) {
            return null;
        }
        if (!DOTTED_DECIMAL.matcher(bare).matches()) {
            throw new UnsafeDestinationException("The host " + host
                    + " is an IP address in an ambiguous form; write it as four decimal numbers, a.b.c.d.");
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            bytes[i] = (byte) Integer.parseInt(labels[i]);
        }
        try {
            return Inet4Address.getByAddress(bare, bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String ipv4Refusal(byte[] b, int at, boolean embedded) {
        int a = b[at] & 0xff;
        int c = b[at + 1] & 0xff;
        String reason;
        if (a == 0) {
            reason = "a \"this network\" address (0.0.0.0/8)";
        } else if (a == 10 || (a == 172 && (c & 0xf0) == 16) || (a == 192 && c == 168)) {
            reason = "a private address";
        } else if (a == 100 && (c & 0xc0) == 64) {
            reason = "a shared (carrier-grade NAT) address";
        } else if (a == 127) {
            reason = "a loopback address";
        } else if (a == 169 && c == 254) {
            reason = "a link-local address";
        } else if (a == 192 && c == 0 && (b[at + 2] & 0xff) == 0) {
            reason = "an IETF protocol address (192.0.0.0/24)";
        } else if (a == 198 && (c & 0xfe) == 18) {
            reason = "a benchmarking address (198.18.0.0/15)";
        } else if (a >= 224 && a < 240) {
            reason = "a multicast address";
        } else if (a >= 240) {
            reason = "a reserved or broadcast address";
        } else {
            return null;
        }
        return embedded ? "an IPv6 address carrying " + reason : reason;
    }

    private static String ipv6Refusal(byte[] b) {
        int first = (b[0] & 0xff) << 8 | (b[1] & 0xff);
        if (zeros(b, 0, 12)) {
            // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
            return zeros(b, 12, 15) && b[15] == 1 ? "a loopback address"
                    : zeros(b, 12, 16) ? "the unspecified address" : "an IPv4-compatible IPv6 address";
        }
        if (zeros(b, 0, 10) && b[10] == (byte) 0xff && b[11] == (byte) 0xff) {
            return "an IPv4-mapped IPv6 address";
        }
        if ((b[0] & 0xfe) == 0xfc) {
            return "a unique local address (fc00::/7)";
        }
        if ((b[0] & 0xff) == 0xfe && (b[1] & 0x80) == 0x80) {
            return "a link-local or site-local address";
        }
        if ((b[0] & 0xff) == 0xff) {
            return "a multicast address";
        }
        if (first == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b) {
            // NAT64: 64:ff9b::/96 translates to the IPv4 address in the last 32 bits; 64:ff9b:1::/48 is local use
            return zeros(b, 4, 12) ? ipv4Refusal(b, 12, true)
                    : b[4] == 0 && b[5] == 1 ? "a local-use NAT64 address" : null;
        }
        if (first == 0x2002) {
            return ipv4Refusal(b, 2, true);
        }
        if (first == 0x2001 && b[2] == 0 && b[3] == 0) {
            // Teredo: the server's IPv4 address, then the client's, inverted, in the last 32 bits
            byte[] client = new byte[4];
            for (int i = 0; i < 4; i++) {
                client[i] = (byte) ~b[12 + i];
            }
            String server = ipv4Refusal(b, 4, true);
            return server != null ? server : ipv4Refusal(client, 0, true);
        }
        return null;
    }

    private static boolean zeros(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
