package dev.auditstream.destinations;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** A stream as a destination sees it: its identity and its configuration with secrets in clear. */
public record DeliveryTarget(String streamId, String organizationId, String type, ObjectNode config, int configVersion) {

    public String text(String member, String fallback) {
        String value = config.path(member).asText(null);
        return value == null || value.isBlank() ? fallback : value;
    }
}
