package dev.auditstream.delivery;

import dev.auditstream.destinations.Batch;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.f4b6a3.ulid.UlidCreator;
import org.apache.camel.Exchange;

import dev.auditstream.api.Json;
import dev.auditstream.api.Timestamps;
import dev.auditstream.destinations.DeliveryTarget;
import dev.auditstream.destinations.Failure;
import dev.auditstream.destinations.StoredEvent;
import dev.auditstream.events.Actor;
import dev.auditstream.events.OwnEvents;
import dev.auditstream.events.OwnEvents.Target;

/**
 * POST /log_streams/{id}/test: one synthetic event sent now through the stream's destination, and what it answered.
 * A success heals an {@code error} or {@code invalid} stream; a failure is reported, not held against the stream.
 */
public final class TestSends {

    private static final Batch.Position NOWHERE = new Batch.Position("0", 0);

    private final DataSource dataSource;
    private final StreamStates states;
    private final OwnEvents ownEvents;

    public TestSends(DataSource dataSource, StreamStates states, OwnEvents ownEvents) {
        this.ownEvents = ownEvents;
        this.dataSource = dataSource;
        this.states = states;
    }

    /** Route step: the one-event batch to send, marked as a test (an expression: it changes nothing). */
    public Batch testBatch(Exchange exchange) {
        DeliveryTarget target = exchange.getVariable("target", DeliveryTarget.class);
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        String id = UlidCreator.getMonotonicUlid().toString();
        ObjectNode event = Json.MAPPER.createObjectNode();
        event.put("id", id).put("action", "auditstream.test_event");
        event.putArray("targets").addObject().put("id", target.streamId()).put("type", "log_stream");
        event.putObject("actor").put("id", "auditstream").put("type", "system");
        event.putObject("context").put("location", "127.0.0.1").put("user_agent", "AuditStream");
        event.put("occurred_at", Timestamps.iso(now));
        return new Batch(List.of(new StoredEvent("0", 0, id, "auditstream.test_event", now, now, Json.write(event))),
                NOWHERE, false);
    }

    /**
     * Route step: records the attempt and the test ({@code log_stream.tested}), answers
     * {@code {"success", "state", "http_status"?, "error"?}}.
     */
    public String answer(Exchange exchange, Actor actor) throws SQLException {
        DeliveryTarget target = exchange.getVariable("target", DeliveryTarget.class);
        Failure failure = exchange.getVariable("failure", Failure.class);
        long millis = exchange.getClock().elapsed();
        Integer status = failure == null ? DeliveryOutcomes.status(exchange) : failure.httpStatus();
        if (failure == null) {
            states.delivered(target.streamId(), target.organizationId(), null, 1, status, millis, null);
        } else {
            try (Connection c = dataSource.getConnection()) {
                StreamStates.attempt(c, target.streamId(), target.organizationId(), 1, "test_failed", status,
                        failure.message(), millis, null);
            }
        }
        recordTest(target, actor, failure == null, status);
        ObjectNode answer = Json.MAPPER.createObjectNode();
        answer.put("success", failure == null);
        answer.put("state", currentState(target.streamId()));
        if (status != null) {
            answer.put("http_status", status);
        }
        if (failure != null) {
            answer.put("error", failure.message());
        }
        return json(exchange, answer);
    }

    /**
     * Route step for a stream not saved: what the destination answered, and the state a stream with this config
     * would now be in; nothing recorded.
     */
    public String answerUnsaved(Exchange exchange) {
        Failure failure = exchange.getVariable("failure", Failure.class);
        Integer status = failure == null ? DeliveryOutcomes.status(exchange) : failure.httpStatus();
        ObjectNode answer = Json.MAPPER.createObjectNode();
        answer.put("success", failure == null);
        answer.put("state", failure == null ? "active" : switch (failure.kind()) {
            case RETRY -> "error";
            case INVALID -> "invalid";
            case REJECTED, INTERNAL -> "active";
        });
        if (status != null) {
            answer.put("http_status", status);
        }
        if (failure != null) {
            answer.put("error", failure.message());
        }
        return json(exchange, answer);
    }

    /** The answer, without the destination's answer headers (they are not this API's). */
    private static String json(Exchange exchange, ObjectNode answer) {
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
        exchange.getMessage().setHeader("X-Request-ID", exchange.getVariable("requestId", String.class));
        return Json.write(answer);
    }

    /** The test in the organization's log: whether it worked, not what the destination said (it may echo a secret). */
    private void recordTest(DeliveryTarget target, Actor actor, boolean success, Integer status) throws SQLException {
        Map<String, String> metadata = new HashMap<>(
                Map.of("stream_type", target.type(), "success", String.valueOf(success)));
        if (status != null) {
            metadata.put("http_status", String.valueOf(status));
        }
        try (Connection c = dataSource.getConnection();
             var ps = c.prepareStatement("SELECT name FROM log_stream WHERE id = ?")) {
            ps.setString(1, target.streamId());
            String name;
            try (var rs = ps.executeQuery()) {
                name = rs.next() ? rs.getString(1) : null;
            }
            ownEvents.record(c, target.organizationId(), "log_stream.tested", actor,
                    Target.logStream(target.streamId(), name), metadata);
        }
    }

    private String currentState(String streamId) throws SQLException {
        try (Connection c = dataSource.getConnection();
             var ps = c.prepareStatement("SELECT state FROM log_stream WHERE id = ?")) {
            ps.setString(1, streamId);
            try (var rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : "deleted";
            }
        }
    }
}
