package dev.auditstream.destinations;

import static dev.auditstream.outbound.OutboundRequest.header;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.auditstream.api.Json;
import dev.auditstream.outbound.ErrorAnswerException;
import dev.auditstream.outbound.OutboundHttp;
import dev.auditstream.outbound.OutboundRequest;
import dev.auditstream.outbound.OutboundResponse;

/**
 * Splunk's HTTP Event Collector: event objects {@code {"event", "time" (epoch seconds), "source", …}} concatenated
 * with newlines (HEC's batch format, not a JSON array), {@code Authorization: Splunk <token>}, a request channel
 * for tokens with indexer acknowledgement, and JSON answers whose {@code code} says what went wrong.
 */
public final class Splunk implements HttpDestination {

    private static final String COLLECTOR_PATH = "/services/collector/event";
    private static final String ACK_PATH = "/services/collector/ack";
    private static final String CHANNEL = "X-Splunk-Request-Channel";
    private static final int MAX_ENTRIES = 1000;
    private static final long MAX_ACK_PAUSE_MS = 2000;

    private final long maxBatchBytes;
    private final OutboundHttp http;
    private final Duration ackTimeout;

    /**
     * @param http       the client acknowledgement queries are sent with
     * @param ackTimeout how long a batch may wait to be indexed (tokens with indexer acknowledgement)
     */
    public Splunk(long maxBatchBytes, OutboundHttp http, Duration ackTimeout) {
        this.maxBatchBytes = maxBatchBytes;
        this.http = http;
        this.ackTimeout = ackTimeout;
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
    public boolean preparesAhead() {
        return true;
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
                        header("Authorization", "Splunk " + target.text("token", "")),
                        // a token with indexer acknowledgement needs a channel; one without ignores it
                        header(CHANNEL, channel(target))),
                entries.body()), entries.count());
    }

    /**
     * HEC answers 200 with {@code "code": 0} only when it took the events (a proxy's or login page's 200 is not
     * that). With indexer acknowledgement the answer carries an {@code ackId}: the events count once
     * {@code /services/collector/ack} says they are indexed, which is asked for with growing pauses up to the
     * ack time-out (then the batch is sent again: at least once).
     */
    @Override
    public void confirm(DeliveryTarget target, OutboundRequest request, OutboundResponse answer)
            throws IOException, ErrorAnswerException {
        JsonNode body = parse(answer.text());
        if (!accepted(body)) {
            throw new ErrorAnswerException(answer);
        }
        if (body.path("ackId").canConvertToLong()) {
            awaitIndexed(request, body.get("ackId").asLong());
        }
    }

    /** HEC took the events: its answer's {@code code} is 0 (kept apart from the acknowledgement I/O to test it). */
    static boolean accepted(JsonNode answer) {
        // the integer 0 only: "0", false or 0.7 are not HEC's success
        JsonNode code = answer.path("code");
        return code.isIntegralNumber() && code.asLong() == 0;
    }

    private void awaitIndexed(OutboundRequest sent, long ackId) throws IOException, ErrorAnswerException {
        String path = sent.uri().getRawPath();
        URI ackUrl = sent.uri().resolve(path.substring(0, path.length() - COLLECTOR_PATH.length()) + ACK_PATH);
        List<OutboundRequest.Header> headers = sent.headers().stream()
                .filter(h -> !h.name().equals("Content-Type")).toList();
        OutboundRequest query = OutboundRequest.post(ackUrl, concat(headers, header("Content-Type", "application/json")),
                ("{\"acks\":[" + ackId + "]}").getBytes(StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + ackTimeout.toNanos();
        long pauseMs = 100;
        while (true) {
            JsonNode acks = parse(http.send(query).text()).path("acks");
            if (acks.path(String.valueOf(ackId)).asBoolean(false)) {
                return;
            }
            if (System.nanoTime() + pauseMs * 1_000_000 > deadline) {
                throw new IOException("Splunk did not acknowledge indexing (ackId " + ackId + ") within "
                        + ackTimeout.toSeconds() + " s");
            }
            try {
                Thread.sleep(pauseMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("stopped while waiting for Splunk's acknowledgement");
            }
            pauseMs = Math.min(MAX_ACK_PAUSE_MS, pauseMs * 2);
        }
    }

    private static List<OutboundRequest.Header> concat(List<OutboundRequest.Header> headers,
                                                       OutboundRequest.Header more) {
        List<OutboundRequest.Header> all = new ArrayList<>(headers);
        all.add(more);
        return all;
    }

    /** A GUID (as HEC requires) fixed per stream, so its requests and ack queries share one channel. */
    private static String channel(DeliveryTarget target) {
        return UUID.nameUUIDFromBytes(("auditstream:" + target.streamId()).getBytes(StandardCharsets.UTF_8))
                .toString();
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
