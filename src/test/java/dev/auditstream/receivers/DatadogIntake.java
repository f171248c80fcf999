package dev.auditstream.receivers;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Datadog HTTP Logs intake v2 ({@code POST /api/v2/logs}), with the documented limits enforced as hard rejections.
 * {@link #events()} holds the {@code message} object of each accepted entry.
 */
public final class DatadogIntake extends LoopbackReceiver {

    static final int MAX_PAYLOAD_BYTES = 5 * 1024 * 1024;
    static final int MAX_ENTRIES = 1000;
    static final int MAX_ENTRY_BYTES = 1024 * 1024;

    private final String apiKey;
    private final boolean requireGzip;

    private DatadogIntake(Builder b) {
        this.apiKey = b.apiKey;
        this.requireGzip = b.requireGzip;
    }

    public static DatadogIntake start(String apiKey) {
        return builder(apiKey).start();
    }

    public static Builder builder(String apiKey) {
        return new Builder(apiKey);
    }

    public static final class Builder {
        private final String apiKey;
        private boolean requireGzip = true;

        private Builder(String apiKey) {
            this.apiKey = apiKey;
        }

        /** Default true: AuditStream always gzips for Datadog, so a plain body is a bug. */
        public Builder requireGzip(boolean requireGzip) {
            this.requireGzip = requireGzip;
            return this;
        }

        public DatadogIntake start() {
            DatadogIntake intake = new DatadogIntake(this);
            intake.listen();
            return intake;
        }
    }

    @Override
    protected String path() {
        return "/api/v2/logs";
    }

    @Override
    protected String errorBody(int status) {
        return "{\"errors\":[\"" + (status == 413 ? "Payload too large" : reasonPhrase(status)) + "\"]}";
    }

    @Override
    protected Reply handle(Recorded req) {
        if (!apiKey.equals(req.header("DD-API-KEY"))) {
            return reject(403, "DD-API-KEY missing or wrong");
        }
        if (!"application/json".equals(mediaType(req))) {
            return reject(415, "Content-Type " + req.header("Content-Type"));
        }
        if (requireGzip && !isGzipped(req)) {
            return reject(400, "body not gzip-compressed");
        }
        if (req.body().length > MAX_PAYLOAD_BYTES) {
            return reject(413, "uncompressed payload of " + req.body().length + " bytes");
        }
        JsonNode root;
        try {
            root = JSON.readTree(req.body());
        } catch (IOException e) {
            return reject(400, "malformed JSON: " + e.getMessage());
        }
        if (!root.isArray() || root.isEmpty()) {
            return reject(400, "body must be a non-empty JSON array, was " + root.getNodeType());
        }
        if (root.size() > MAX_ENTRIES) {
            return reject(413, root.size() + " entries");
        }
        List<JsonNode> messages = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            JsonNode entry = root.get(i);
            if (!entry.isObject()) {
                return reject(400, "entry " + i + " is not an object");
            }
            if (size(entry) > MAX_ENTRY_BYTES) {
                return reject(413, "entry " + i + " larger than 1 MB");
            }
            String problem = problem(entry);
            if (problem != null) {
                return reject(400, "entry " + i + ": " + problem);
            }
            if (isPoison(entry.get("message"))) {
                return reject(400, "entry " + i + ": poisoned action");
            }
            messages.add(entry.get("message"));
        }
        accept(messages);
        return new Reply(202, "{}", "accepted " + messages.size());
    }

    private static String problem(JsonNode entry) {
        if (!entry.path("message").isObject()) {
            return "message must be an object";
        }
        for (String field : List.of("ddsource", "service")) {
            if (!entry.path(field).isTextual() || entry.get(field).asText().isBlank()) {
                return field + " must be a non-empty string";
            }
        }
        for (String field : List.of("ddtags", "hostname", "status")) {
            if (!optionalString(entry, field)) {
                return field + " must be a string";
            }
        }
        return null;
    }

    private static int size(JsonNode entry) {
        try {
            return JSON.writeValueAsBytes(entry).length;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
