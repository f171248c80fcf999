package dev.auditstream.outbound;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.auditstream.api.Json;

/**
 * The addresses destination traffic comes from, as the operator publishes them ({@code auditstream.egress.addresses}:
 * IP addresses and CIDR blocks, comma-separated), for customers to allow-list. Checked at start-up, so a typo never
 * reaches a customer's firewall.
 */
public final class EgressAddresses {

    private final List<String> addresses;

    private EgressAddresses(List<String> addresses) {
        this.addresses = addresses;
    }

    /** The list as configured (null or blank: none published); an entry that is no IP or CIDR block is refused. */
    public static EgressAddresses parse(String list) {
        List<String> addresses = new ArrayList<>();
        for (String raw : list == null ? new String[0] : list.split(",")) {
            String entry = raw.trim();
            if (entry.isEmpty()) {
                continue;
            }
            String[] parts = entry.split("/", 2);
            InetAddress address;
            try {
                address = Addresses.literal(parts[0]);
            } catch (UnsafeDestinationException ambiguous) {
                address = null;
            }
            int bits = address == null ? 0 : address.getAddress().length * 8;
            if (address == null || parts.length > 1 && !(parts[1].matches("[0-9]{1,3}")
                    && Integer.parseInt(parts[1]) <= bits)) {
                throw new IllegalArgumentException("auditstream.egress.addresses: " + entry
                        + " is not an IP address or CIDR block (a.b.c.d, a.b.c.d/n, an IPv6 address or block)");
            }
            addresses.add(parts.length > 1 ? address.getHostAddress() + "/" + parts[1] : address.getHostAddress());
        }
        return new EgressAddresses(List.copyOf(addresses));
    }

    /** Route step for GET /egress (API and portal): {@code {"object": "egress", "addresses": [...]}}. */
    public String describe() {
        ObjectNode answer = Json.MAPPER.createObjectNode().put("object", "egress");
        ArrayNode list = answer.putArray("addresses");
        addresses.forEach(list::add);
        return Json.write(answer);
    }
}
