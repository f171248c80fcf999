package dev.auditstream.destinations;

import static dev.auditstream.outbound.OutboundRequest.header;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.auditstream.api.Json;
import dev.auditstream.outbound.OutboundRequest;

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
    public List<String> credentialsSentToUrl() {
        return secretPointers();
    }

    @Override
    public List<String> check(ObjectNode config, ConfigChecks checks) {
        checks.unknownMembers(config, Set.of("url", "token", "source", "index", "sourcetype"), "");
        List<String> missing = new ArrayList<>();
        if (checks.url(config, "url") == null) {
            missing.add("url");
        }
        if (checks.headerValue(config, "token", "token") == null) {
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
        return new Outbound(OutboundRequest.post(collectorUrl(target.text("url", "")), List.of(
                        header("Content-Type", "application/json"),
                        header("Authorization", "Splunk " + target.text("token", ""))),
                entries.body()), entries.count());
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

    /** Accepts the HEC base URL, or one whose path already ends in the collector path; its query stays as it is. */
    private static URI collectorUrl(String url) {
        URI base = URI.create(url);
        String path = base.getRawPath() == null ? "" : base.getRawPath().replaceFirst("/$", "");
        if (!path.endsWith(COLLECTOR_PATH)) {
            path += path.endsWith("/services/collector") ? "/event" : COLLECTOR_PATH;
        }
        return URI.create(base.getScheme() + "://" + base.getRawAuthority() + path
                + (base.getRawQuery() == null ? "" : "?" + base.getRawQuery()));
    }

    private static JsonNode parse(String body) {
        try {
            return body == null || body.isBlank() ? Json.MAPPER.createObjectNode() : Json.MAPPER.readTree(body);
        } catch (Exception e) {
            return Json.MAPPER.createObjectNode();
        }
    }
}
