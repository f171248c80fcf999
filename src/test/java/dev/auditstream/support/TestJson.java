package dev.auditstream.support;

import java.io.IOException;
import java.io.UncheckedIOException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

public final class TestJson {

    public static final ObjectMapper MAPPER = new ObjectMapper();

    private TestJson() {
    }

    /** The text as a JSON string literal. */
    public static String quote(String text) {
        return MAPPER.getNodeFactory().textNode(text).toString();
    }

    public static JsonNode read(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A valid event body for the organization, with the given action. */
    public static String event(String organizationId, String action) {
        return """
                {"organization_id":"%s","event":{"action":"%s","occurred_at":"2024-01-15T10:30:00.000Z",
                 "actor":{"id":"user_456","type":"user","name":"Jon Smith"},
                 "targets":[{"id":"user_123","type":"user"}],
                 "context":{"location":"192.168.1.1","user_agent":"Chrome/91.0"}}}"""
                .formatted(organizationId, action);
    }
}
