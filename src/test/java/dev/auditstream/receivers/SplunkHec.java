package dev.auditstream.receivers;

import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Splunk HTTP Event Collector ({@code POST /services/collector/event}). Like Splunk, it processes the concatenated
 * event objects in order and stops at the first bad one: the objects before it stay accepted.
 * {@link #events()} holds the {@code event} value of each accepted object.
 * <p>
 * With {@linkplain Builder#indexerAcknowledgement() indexer acknowledgement} on the token, as Splunk documents it:
 * every request needs a channel ({@code X-Splunk-Request-Channel} or {@code ?channel=}, a GUID; code 10 when missing,
 * 11 when not a GUID), a success answers {@code {"text":"Success","code":0,"ackId":n}} (numbered per channel from 0),
 * and {@code POST /services/collector/ack} with {@code {"acks":[n,…]}} answers {@code {"acks":{"n":true|false}}}. Here
 * the events of a request count as indexed (are in {@link #events()}) once a query has answered {@code true} for
 * them, which it does from the {@linkplain Builder#indexedAfterQueries(int) n-th query} on. Without it the ack
 * endpoint answers code 14, "ACK is disabled".
 */
public final class SplunkHec extends LoopbackReceiver {

    private static final BigDecimal MAX_EPOCH_SECONDS = new BigDecimal("1e11"); // above this it is milliseconds

    // Floats as exact decimals, so "time" can be checked for its number of decimals without double rounding.
    private static final ObjectReader EXACT = JSON.readerFor(JsonNode.class)
            .with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .without(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES);

    private static final String EVENT_PATH = "/services/collector/event";
    private static final String ACK_PATH = "/services/collector/ack";
    private static final Pattern GUID = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private final String token;
    private final Set<String> allowedIndexes; // null: any
    private final boolean acknowledgement;
    private final int indexedAfterQueries;
    // per channel: the next ackId, and the events and the queries so far of each ackId not yet indexed
    private final Map<String, Integer> nextAckId = new HashMap<>();
    private final Map<String, Pending> pending = new HashMap<>();

    private record Pending(List<JsonNode> events, int[] queries) {
    }

    private SplunkHec(Builder b) {
        this.token = b.token;
        this.allowedIndexes = b.allowedIndexes;
        this.acknowledgement = b.acknowledgement;
        this.indexedAfterQueries = b.indexedAfterQueries;
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
        private boolean acknowledgement;
        private int indexedAfterQueries = 2;

        private Builder(String token) {
            this.token = token;
        }

        /** The token has indexer acknowledgement enabled. */
        public Builder indexerAcknowledgement() {
            this.acknowledgement = true;
            return this;
        }

        /** The ack query that first answers true for a request (by default the second). */
        public Builder indexedAfterQueries(int queries) {
            this.indexedAfterQueries = queries;
            return this;
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

    /** Both endpoints; any other path is answered 404 in {@link #handle}. */
    @Override
    protected String path() {
        return null;
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
        if (!req.path().equals(EVENT_PATH) && !req.path().equals(ACK_PATH)) {
            return reject(404, "path " + req.path());
        }
        Reply refused = authorization(req);
        if (refused != null) {
            return refused;
        }
        if (req.path().equals(ACK_PATH)) {
            return acknowledgements(req);
        }
        String channel = null;
        if (acknowledgement) {
            channel = channel(req);
            if (channel == null) {
                return new Reply(400, body("Data channel is missing", 10), "no channel");
            }
            if (!GUID.matcher(channel).matches()) {
                return new Reply(400, body("Invalid data channel", 11), "channel " + channel + " is not a GUID");
            }
        }
        return events(req, channel);
    }

    private Reply authorization(Recorded req) {
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
        return null;
    }

    private Reply events(Recorded req, String channel) {
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
        if (channel == null) {
            accept(accepted);
            return new Reply(200, body("Success", 0), "accepted " + accepted.size());
        }
        int ackId;
        synchronized (pending) {
            ackId = nextAckId.merge(channel, 1, Integer::sum) - 1;
            pending.put(channel + "/" + ackId, new Pending(accepted, new int[1]));
        }
        return new Reply(200, "{\"text\":\"Success\",\"code\":0,\"ackId\":" + ackId + "}",
                "received " + accepted.size() + " as ackId " + ackId);
    }

    /** {@code {"acks":[0,1]}} → {@code {"acks":{"0":true,"1":false}}}; an id it does not know is false. */
    private Reply acknowledgements(Recorded req) {
        if (!acknowledgement) {
            return new Reply(400, body("ACK is disabled", 14), "ack query without acknowledgement");
        }
        String channel = channel(req);
        if (channel == null) {
            return new Reply(400, body("Data channel is missing", 10), "ack query without a channel");
        }
        JsonNode query;
        try {
            query = JSON.readTree(req.body());
        } catch (IOException e) {
            query = null;
        }
        if (query == null || !query.path("acks").isArray()) {
            return new Reply(400, body("Invalid data format", 6), "ack query is not {\"acks\":[…]}");
        }
        ObjectNode acks = JSON.createObjectNode();
        for (JsonNode id : query.get("acks")) {
            if (!id.canConvertToInt()) {
                return new Reply(400, body("Invalid data format", 6), "ack id " + id + " is not a number");
            }
            acks.put(id.asText(), indexed(channel + "/" + id.asInt()));
        }
        ObjectNode answer = JSON.createObjectNode();
        answer.set("acks", acks);
        return new Reply(200, answer.toString(), "ack query " + query.get("acks"));
    }

    private boolean indexed(String key) {
        List<JsonNode> events;
        synchronized (pending) {
            Pending waiting = pending.get(key);
            if (waiting == null) {
                return false;
            }
            if (++waiting.queries()[0] < indexedAfterQueries) {
                return false;
            }
            pending.remove(key);
            events = waiting.events();
        }
        accept(events);
        return true;
    }

    private static String channel(Recorded req) {
        String header = req.header("X-Splunk-Request-Channel");
        return header != null ? header : req.query("channel");
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
