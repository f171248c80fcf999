package dev.auditstream.outbound;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which destinations bypass the egress proxy, in the usual NO_PROXY form: a comma-separated list of host names (each
 * also covering its subdomains), {@code .suffix} domains (subdomains only), IP addresses, CIDR blocks, or {@code *}
 * (everything). An entry may carry a {@code :port}, which is ignored. Names match case-insensitively; IPs and CIDRs
 * match a host written as an address and the address a host name was resolved to.
 */
public final class NoProxy {

    private record Block(byte[] network, int prefix) {
        boolean contains(InetAddress address) {
            byte[] bytes = address.getAddress();
            if (bytes.length != network.length) {
                return false;
            }
            int bits = prefix;
            for (int i = 0; i < bytes.length && bits > 0; i++, bits -= 8) {
                int mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
                if ((bytes[i] & mask) != (network[i] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }

    private final boolean everything;
    private final List<String> names;
    private final List<String> suffixes;
    private final List<Block> blocks;

    private NoProxy(boolean everything, List<String> names, List<String> suffixes, List<Block> blocks) {
        this.everything = everything;
        this.names = names;
        this.suffixes = suffixes;
        this.blocks = blocks;
    }

    /** The list as configured; null or blank bypasses nothing. An entry that is no name, IP or CIDR is refused. */
    public static NoProxy parse(String list) {
        boolean everything = false;
        List<String> names = new ArrayList<>();
        List<String> suffixes = new ArrayList<>();
        List<Block> blocks = new ArrayList<>();
        for (String raw : list == null ? new String[0] : list.split(",")) {
            String entry = raw.trim().toLowerCase(Locale.ROOT);
            if (entry.isEmpty()) {
                continue;
            }
            if (entry.equals("*")) {
                everything = true;
                continue;
            }
            Block block = block(entry);
            if (block != null) {
                blocks.add(block);
                continue;
            }
            String name = entry.replaceFirst(":[0-9]+$", "").replaceFirst("\\.$", "");
            if (name.startsWith("*.")) {
                name = name.substring(1);
            }
            if (!name.matches("\\.?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?")) {
                throw new IllegalArgumentException("auditstream.egress.no-proxy: " + raw.trim()
                        + " is not a host name, .domain, IP address, CIDR block or *");
            }
            (name.startsWith(".") ? suffixes : names).add(name);
        }
        return new NoProxy(everything, List.copyOf(names), List.copyOf(suffixes), List.copyOf(blocks));
    }

    /** An IP address or CIDR block (IPv6 possibly in brackets or with a port after them), or null for a name. */
    private static Block block(String entry) {
        String address = entry;
        int prefix = -1;
        int slash = entry.indexOf('/');
        if (slash >= 0) {
            address = entry.substring(0, slash);
            prefix = Integer.parseInt(entry.substring(slash + 1));
        }
        if (address.startsWith("[")) {
            address = address.substring(1, address.indexOf(']'));
        } else if (!address.contains(":") || address.indexOf(':') == address.lastIndexOf(':')) {
            address = address.replaceFirst(":[0-9]+$", "");
            if (!address.matches("[0-9.]+") || address.split("\\.", -1).length != 4) {
                if (slash >= 0) {
                    throw new IllegalArgumentException("auditstream.egress.no-proxy: " + entry + " is not a CIDR block");
                }
                return null;
            }
        }
        InetAddress parsed = Addresses.literal(address);
        if (parsed == null) {
            throw new IllegalArgumentException("auditstream.egress.no-proxy: " + entry + " is not an IP address");
        }
        int bits = parsed.getAddress().length * 8;
        if (prefix > bits || prefix == 0 && slash < 0) {
            throw new IllegalArgumentException("auditstream.egress.no-proxy: " + entry + " has no valid prefix length");
        }
        return new Block(parsed.getAddress(), prefix < 0 ? bits : prefix);
    }

    /**
     * Whether a connection to {@code host} (as the URL names it) at {@code address} (null when not resolved here)
     * goes directly, not through the proxy.
     */
    public boolean bypasses(String host, InetAddress address) {
        if (everything) {
            return true;
        }
        String name = host.toLowerCase(Locale.ROOT).replaceFirst("\\.$", "");
        if (name.startsWith("[") && name.endsWith("]")) {
            name = name.substring(1, name.length() - 1);
        }
        for (String exact : names) {
            if (name.equals(exact) || name.endsWith("." + exact)) {
                return true;
            }
        }
        for (String suffix : suffixes) {
            if (name.endsWith(suffix)) {
                return true;
            }
        }
        if (blocks.isEmpty()) {
            return false;
        }
        InetAddress literal = literalOrNull(name);
        for (Block block : blocks) {
            if (literal != null && block.contains(literal) || address != null && block.contains(address)) {
                return true;
            }
        }
        return false;
    }

    private static InetAddress literalOrNull(String host) {
        try {
            return Addresses.literal(host);
        } catch (UnsafeDestinationException ambiguous) {
            return null;
        }
    }
}
