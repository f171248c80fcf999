package dev.auditstream.receivers;

import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;

/**
 * Splunk HTTP Event Collector ({@code POST /services/collector/event}). Like Splunk, it processes the concatenated
 * event objects in order and stops at the first bad one: the objects before it stay accepted.
 * {@link #events()} holds the {@code event} value of each accepted object.
 */
public final class SplunkHec extends LoopbackReceiver {

    private static final BigDecimal MAX_EPOCH_SECONDS = new BigDecimal("1e11"); // above this it is milliseconds

    // Floats as exact decimals, so "time" can be checked for its number of decimals without double rounding.
    private static final ObjectReader EXACT = JSON.readerFor(JsonNode.class)
            .with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .without(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES);

    private final String token;
    private final Set<String> allowedIndexes; // null: any

    private SplunkHec(Builder b) {
        this.token = b.token;
        this.allowedIndexes = b.allowedIndexes;
    }

    public static SplunkHec start(String token) {
        return builder(token).start();
    }

    public static Builder builder(String token) {
        return new Builder(token);
    }

    public static final class Builder {
        private final String token;
        private Set<String> allowedIndexes;

        private Builder(String token) {
            this.token = token;
        }

        /** Indexes the token may write to; by default any. */
        public Builder allowedIndexes(String... indexes) {
            this.allowedIndexes = Set.of(indexes);
            return this;
        }

        public SplunkHec start() {
            SplunkHec hec = new SplunkHec(this);
            hec.listen();
            return hec;
        }
    }

    @Override
    protected String path() {
        return "/services/collector/event";
    }

    @Override
    protected String errorBody(int status) {
        return switch (status) {
            case 400 -> body("Invalid data format", 6);
            case 401 -> body("Token is required", 2);
            case 403 -> body("Invalid token", 4);
            case 404 -> body("The requested URL was not found on this server.", 404);
            case 500 -> body("Internal server error", 8);
            case 503 -> body("Server is busy", 9);
            default -> body(reasonPhrase(status), status);
        };
    }

    @Override
    protected Reply handle(Recorded req) {
        String auth = req.header("Authorization");
        if (auth == null) {
            return reject(401, "no Authorization header");
        }
        if (!auth.startsWith("Splunk ")) {
            return new Reply(401, body("Invalid authorization", 3), "Authorization is not 'Splunk <token>'");
        }
        if (!token.equals(auth.substring("Splunk ".length()))) {
            return reject(403, "wrong token");
        }
        if (req.bodyText().isBlank()) {
            return new Reply(400, body("No data", 5), "empty body");
        }

        List<JsonNode> accepted = new ArrayList<>();
        try (JsonParser parser = EXACT.createParser(req.body());
             // an unmanaged parser, so a top-level array is NOT silently unwrapped into its elements
             MappingIterator<JsonNode> objects = EXACT.readValues(parser)) {
            while (objects.hasNextValue()) {
                int i = accepted.size();
                JsonNode object = objects.nextValue();
                Reply bad = check(object, i);
                if (bad != null) {
                    accept(accepted);
                    return bad;
                }
                accepted.add(JSON.readTree(JSON.writeValueAsBytes(object.get("event")))); // plain doubles again
            }
        } catch (IOException e) {
            accept(accepted);
            return invalid(6, "Invalid data format", accepted.size(), "unparseable: " + e.getMessage());
        }
        accept(accepted);
        return new Reply(200, body("Success", 0), "accepted " + accepted.size());
    }

    private Reply check(JsonNode object, int i) {
        if (!object.isObject()) {
            return invalid(6, "Invalid data format", i, "not an object but " + object.getNodeType());
        }
        JsonNode event = object.get("event");
        if (event == null || event.isNull()) {
            return invalid(12, "Event field is required", i, "no event");
        }
        if (event.isTextual() && event.asText().isBlank()) {
            return invalid(13, "Event field cannot be blank", i, "blank event");
        }
        JsonNode time = object.get("time");
        if (time != null && !validTime(time)) {
            return invalid(6, "Invalid data format", i, "time " + time + " is not epoch seconds with <= 3 decimals");
        }
        for (String field : List.of("source", "sourcetype", "index", "host")) {
            if (!optionalString(object, field)) {
                return invalid(6, "Invalid data format", i, field + " is not a string");
            }
        }
        if (object.has("fields") && !object.get("fields").isObject()) {
            return invalid(6, "Invalid data format", i, "fields is not an object");
        }
        if (object.has("index") && allowedIndexes != null && !allowedIndexes.contains(object.get("index").asText())) {
            return invalid(7, "Incorrect index", i, "index " + object.get("index"));
        }
        if (isPoison(event)) {
            return invalid(6, "Invalid data format", i, "poisoned action");
        }
        return null;
    }

    private static boolean validTime(JsonNode time) {
        if (!time.isNumber()) {
            return false;
        }
        BigDecimal seconds = time.decimalValue();
        return seconds.signum() >= 0
                && seconds.compareTo(MAX_EPOCH_SECONDS) <= 0
                && seconds.stripTrailingZeros().scale() <= 3;
    }

    private static Reply invalid(int code, String text, int eventNumber, String reason) {
        return new Reply(400, "{\"text\":\"%s\",\"code\":%d,\"invalid-event-number\":%d}".formatted(text, code, eventNumber),
                "object " + eventNumber + ": " + reason);
    }

    private static String body(String text, int code) {
        return "{\"text\":\"%s\",\"code\":%d}".formatted(text, code);
    }
}
