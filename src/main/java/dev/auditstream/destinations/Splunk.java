package dev.auditstream.destinations;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.auditstream.api.Json;

/**
 * Splunk's HTTP Event Collector: event objects {@code {"event", "time" (epoch seconds), "source", …}} concatenated
 * with newlines (HEC's batch format, not a JSON array), {@code Authorization: Splunk <token>}, and JSON answers whose
 * {@code code} says what went wrong.
 */
public final class Splunk implements HttpDestination {

    private static final String COLLECTOR_PATH = "/services/collector/event";
    private static final int MAX_ENTRIES = 1000;

    private final long maxBatchBytes;

    public Splunk(long maxBatchBytes) {
        this.maxBatchBytes = maxBatchBytes;
    }

    @Override
    public String type() {
        return "Splunk";
    }

    @Override
    public List<String> secretPointers() {
        return List.of("/token");
    }

    @Override
    public List<String> check(ObjectNode config, ConfigChecks checks) {
        checks.unknownMembers(config, Set.of("url", "token", "source", "index", "sourcetype"), "");
        List<String> missing = new ArrayList<>();
        if (checks.url(config, "url") == null) {
            missing.add("url");
        }
        if (checks.string(config, "token", "token") == null) {
            missing.add("token");
        }
        checks.string(config, "source", "source");
        checks.string(config, "index", "index");
        checks.string(config, "sourcetype", "sourcetype");
        return missing;
    }

    @Override
    public Outbound prepare(DeliveryTarget target, List<StoredEvent> events) {
        StringBuilder fields = new StringBuilder();
        for (String member : List.of("source", "index", "sourcetype")) {
            String value = target.text(member, null);
            if (value != null) {
                fields.append(",\"").append(member).append("\":").append(Payloads.quote(value));
            }
        }
        String tail = fields.append('}').toString();
        Entries entries = Entries.join(events, e -> "{\"event\":" + e.json() + ",\"time\":" + seconds(e) + tail,
                "", "\n", "", MAX_ENTRIES, maxBatchBytes);
        return new Outbound(collectorUrl(target.text("url", "")),
                Map.of("Content-Type", "application/json", "Authorization", "Splunk " + target.text("token", "")),
                entries.body(), false, entries.count());
    }

    /** Splunk's codes say more than its HTTP statuses; {@code invalid-event-number} counts what it took. */
    @Override
    public Failure classify(int status, String body, long retryAfterSeconds) {
        JsonNode answer = parse(body);
        int code = answer.path("code").asInt(-1);
        String message = "HTTP " + status + ", Splunk code " + code + ": " + answer.path("text").asText(ConfigChecks.abbreviate(body));
        Failure.Kind kind = switch (code) {
            case 1, 2, 3, 4, 7, 10, 11, 14, 15, 16, 17 -> Failure.Kind.INVALID;
            case 5, 6, 12, 13 -> Failure.Kind.REJECTED;
            case 8, 9, 18, 19, 20 -> Failure.Kind.RETRY;
            default -> Failure.kindOf(status);
        };
        return new Failure(kind, status, message, Math.max(0, answer.path("invalid-event-number").asInt(0)),
                retryAfterSeconds);
    }

    /** {@code occurred_at} in epoch seconds with milliseconds, e.g. 1705314600.123. */
    private static String seconds(StoredEvent event) {
        long millis = event.occurredAt().toEpochMilli();
        return Math.floorDiv(millis, 1000) + "." + String.format("%03d", Math.floorMod(millis, 1000));
    }

    /** Accepts the HEC base URL, or one that already ends in the collector path. */
    private static String collectorUrl(String url) {
        String base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        if (base.endsWith(COLLECTOR_PATH)) {
            return base;
        }
        if (base.endsWith("/services/collector")) {
            return base + "/event";
        }
        return base + COLLECTOR_PATH;
    }

    private static JsonNode parse(String body) {
        try {
            return body == null || body.isBlank() ? Json.MAPPER.createObjectNode() : Json.MAPPER.readTree(body);
        } catch (Exception e) {
            return Json.MAPPER.createObjectNode();
        }
    }
}
