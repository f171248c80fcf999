package dev.auditstream.streams;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.auditstream.api.Json;
import dev.auditstream.crypto.SecretBox;

/**
 * Keeps stream secrets out of the config that is stored in clear and shown: each secret member is replaced there by
 * a mask ({@code ••••abcd}) and kept, encrypted, beside it, sealed to its stream and organization: moved to another
 * stream's row, it does not open.
 */
public final class StreamSecrets {

    private static final String MASK = "••••";

    private final SecretBox box;

    public StreamSecrets(SecretBox box) {
        this.box = box;
    }

    /** Moves the members at {@code pointers} out of {@code config}, leaving masks; returns them sealed, or null. */
    public byte[] extract(ObjectNode config, List<String> pointers, String streamId, String organizationId) {
        ObjectNode secrets = Json.MAPPER.createObjectNode();
        for (String pointer : pointers) {
            JsonPointer at = JsonPointer.compile(pointer);
            JsonNode value = config.at(at);
            if (value.isTextual()) {
                secrets.put(pointer, value.asText());
                ((ObjectNode) config.at(at.head())).put(at.last().getMatchingProperty(), mask(value.asText()));
            }
        }
        return secrets.isEmpty() ? null
                : box.seal(Json.write(secrets).getBytes(StandardCharsets.UTF_8), owner(streamId, organizationId));
    }

    /** The config with its secrets in clear, for delivery and for merging a change. */
    public ObjectNode reveal(ObjectNode masked, byte[] sealed, String streamId, String organizationId) {
        ObjectNode config = masked.deepCopy();
        if (sealed == null) {
            return config;
        }
        ObjectNode secrets = Json.object(box.open(sealed, owner(streamId, organizationId)));
        for (Iterator<Map.Entry<String, JsonNode>> it = secrets.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> secret = it.next();
            JsonPointer at = JsonPointer.compile(secret.getKey());
            JsonNode parent = config.at(at.head());
            if (parent.isObject()) {
                ((ObjectNode) parent).set(at.last().getMatchingProperty(), secret.getValue());
            }
        }
        return config;
    }

    /** The same secrets sealed with the current key (after a key rotation, or from the format without a key id). */
    byte[] reseal(byte[] sealed, String streamId, String organizationId) {
        byte[] owner = owner(streamId, organizationId);
        return box.seal(box.open(sealed, owner), owner);
    }

    /** The associated data of a stream's sealed secrets: their column, organization and stream. */
    private static byte[] owner(String streamId, String organizationId) {
        return String.join("\0", "log_stream.secrets", organizationId, streamId).getBytes(StandardCharsets.UTF_8);
    }

    static String mask(String secret) {
        return secret.length() <= 8 ? MASK : MASK + secret.substring(secret.length() - 4);
    }

    static boolean isMask(JsonNode value) {
        return value != null && value.isTextual() && value.asText().startsWith(MASK);
    }
}
