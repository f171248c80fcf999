package dev.auditstream.api;

import java.io.IOException;
import java.io.InputStream;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The one ObjectMapper, and request-body parsing that turns bad JSON into a clear 400. */
public final class Json {

    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private Json() {
    }

    /** Parses a request body that must be a JSON object. */
    public static ObjectNode object(byte[] body) {
        if (body == null || body.length == 0) {
            throw ApiException.badRequest("invalid_json", "Request body must be a JSON object.");
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(body);
        } catch (JsonParseException e) {
            throw ApiException.badRequest("invalid_json", "Malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiException.badRequest("invalid_json", "Malformed JSON.");
        }
        if (node == null || !node.isObject()) {
            throw ApiException.badRequest("invalid_json", "Request body must be a JSON object.");
        }
        return (ObjectNode) node;
    }

    public static ObjectNode object(InputStream in) throws IOException {
        return object(in == null ? null : in.readAllBytes());
    }

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
