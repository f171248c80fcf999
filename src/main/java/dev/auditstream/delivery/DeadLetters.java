package dev.auditstream.delivery;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.auditstream.api.Json;
import dev.auditstream.api.Validation;
import dev.auditstream.destinations.Batch;
import dev.auditstream.destinations.Failure;
import dev.auditstream.destinations.StoredEvent;
import dev.auditstream.events.Actor;
import dev.auditstream.events.OwnEvents;
import dev.auditstream.events.OwnEvents.Target;

/**
 * POST /log_streams/{id}/dead_letters/redrive: dead-lettered events (all of a stream's, or those named) sent again
 * through the stream's destination, in log order, apart from its cursor. Marked {@code redriving} when asked for and
 * sent by the worker holding the stream's claim, before its next batch (every read and write here is fenced by the
 * claim's token); {@code redriven} once the destination took them; a refusal makes them dead letters again with the
 * new answer.
 */
public final class DeadLetters {

    /** At most this many ids per request. */
    static final int MAX_IDS = 1000;
    private static final Batch.Position NOWHERE = new Batch.Position("0", 0);

    private final DataSource dataSource;
    private final int maxBatch;
    private final OwnEvents ownEvents;

    public DeadLetters(DataSource dataSource, int maxBatch, OwnEvents ownEvents) {
        this.ownEvents = ownEvents;
        this.dataSource = dataSource;
        this.maxBatch = maxBatch;
    }

    /**
     * Route step: marks the stream's dead letters (of {@code {"ids": [...]}}, or all for an empty body or no ids) to
     * be sent again and asks for the stream's next claim; answers {@code {"redriving": n}}. The stream was found in
     * the caller's organization. Recorded as {@code log_stream.dead_letters_redriven} when any was marked.
     */
    public String redrive(String streamId, byte[] body, Actor actor) throws SQLException {
        List<String> ids = ids(body);
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement mark = c.prepareStatement("""
                         UPDATE log_stream_delivery SET outcome = 'redriving'
                         WHERE stream_id = ? AND outcome = 'dead_lettered'
                           AND (?::text[] IS NULL OR event_id = ANY (?))""");
                 PreparedStatement ask = c.prepareStatement("UPDATE log_stream SET redrive_requested = true "
                         + "WHERE id = ? RETURNING organization_id, name, type")) {
                Array named = ids == null ? null : c.createArrayOf("text", ids.toArray());
                mark.setString(1, streamId);
                mark.setArray(2, named);
                mark.setArray(3, named);
                int marked = mark.executeUpdate();
                // raised after the marks, in their transaction: see finished() for why none can be missed
                if (marked > 0) {
                    ask.setString(1, streamId);
                    try (ResultSet stream = ask.executeQuery()) {
                        if (stream.next()) {
                            ownEvents.record(c, stream.getString(1), "log_stream.dead_letters_redriven", actor,
                                    Target.logStream(streamId, stream.getString(2)),
                                    Map.of("stream_type", stream.getString(3), "dead_letters", String.valueOf(marked)));
                        }
                    }
                }
                c.commit();
                return Json.write(Json.MAPPER.createObjectNode().put("redriving", marked));
            } finally {
                c.rollback();
            }
        }
    }

    private static List<String> ids(byte[] body) {
        if (body == null || body.length == 0) {
            return null;
        }
        ObjectNode request = Json.object(body);
        Validation errors = new Validation();
        errors.unknownFields(request, java.util.Set.of("ids"), "");
        JsonNode ids = request.path("ids");
        List<String> list = null;
        if (!ids.isMissingNode() && !ids.isNull()) {
            if (!ids.isArray() || ids.size() > MAX_IDS) {
                errors.add("ids", "invalid", "ids must be an array of at most " + MAX_IDS + " event ids.");
            } else {
                list = new ArrayList<>();
                for (JsonNode id : ids) {
                    if (!id.isTextual()) {
                        errors.add("ids", "invalid", "ids must be event ids (strings).");
                        break;
                    }
                    list.add(id.asText());
                }
            }
        }
        errors.throwIfAny();
        return list;
    }

    /**
     * Route step: the next of the stream's events marked {@code redriving}, in log order, as a batch (empty when none
     * is left, or when the claim is no longer the stream's). One whose event retention already removed is a dead
     * letter again, saying so.
     */
    public Batch next(String streamId, String claimToken) throws SQLException {
        List<StoredEvent> events = new ArrayList<>();
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement gone = c.prepareStatement("""
                    UPDATE log_stream_delivery d SET outcome = 'dead_lettered',
                        error = 'The event is no longer stored (retention): it cannot be sent again.'
                    FROM log_stream s
                    WHERE s.id = ? AND s.lease_token = CAST(? AS uuid)
                      AND d.stream_id = s.id AND d.outcome = 'redriving'
                      AND NOT EXISTS (SELECT 1 FROM audit_event e WHERE e.id = d.event_id
                                      AND e.organization_id = d.organization_id)""")) {
                gone.setString(1, streamId);
                gone.setString(2, claimToken);
                gone.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT e.xid::text, e.seq, e.id, e.action,
                           (extract(epoch FROM e.occurred_at) * 1000)::bigint,
                           (extract(epoch FROM e.accepted_at) * 1000)::bigint, e.event
                    FROM log_stream s JOIN audit_event e ON e.organization_id = s.organization_id
                    WHERE s.id = ? AND s.lease_token = CAST(? AS uuid)
                      AND e.id IN (SELECT event_id FROM log_stream_delivery
                                   WHERE stream_id = s.id AND outcome = 'redriving')
                    ORDER BY e.xid, e.seq
                    LIMIT ?""")) {
                ps.setString(1, streamId);
                ps.setString(2, claimToken);
                ps.setInt(3, maxBatch);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        events.add(new StoredEvent(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                                Instant.ofEpochMilli(rs.getLong(5)), Instant.ofEpochMilli(rs.getLong(6)),
                                rs.getString(7)));
                    }
                }
            }
        }
        return new Batch(events, NOWHERE, false);
    }

    /**
     * Route step after a send of {@code batch}: the {@code sent} events the destination took are {@code redriven};
     * on a failure every event still marked is a dead letter again, with the new answer. Nothing is written once
     * the claim is no longer the stream's. Returns whether to go on.
     */
    public boolean sent(String streamId, String claimToken, Batch batch, Integer sent, Failure failure)
            throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            if (failure == null) {
                List<String> ids = batch.events().subList(0, sent).stream().map(StoredEvent::id).toList();
                // what the destination took counts as delivered this month, by the same fenced statement
                try (PreparedStatement ps = c.prepareStatement("""
                        WITH redriven AS (
                            UPDATE log_stream_delivery d SET outcome = 'redriven', at = now()
                            FROM log_stream s
                            WHERE s.id = ? AND s.lease_token = CAST(? AS uuid)
                              AND d.stream_id = s.id AND d.outcome = 'redriving' AND d.event_id = ANY (?)
                            RETURNING d.stream_id, d.organization_id)
                        INSERT INTO log_stream_usage (stream_id, month, organization_id, delivered)
                        SELECT stream_id, usage_month(now()), organization_id, count(*) FROM redriven
                        GROUP BY stream_id, organization_id
                        ON CONFLICT (stream_id, month) DO UPDATE
                            SET delivered = log_stream_usage.delivered + excluded.delivered""")) {
                    ps.setString(1, streamId);
                    ps.setString(2, claimToken);
                    ps.setArray(3, c.createArrayOf("text", ids.toArray()));
                    return ps.executeUpdate() > 0;
                }
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    UPDATE log_stream_delivery d SET outcome = 'dead_lettered', error = ?, http_status = ?
                    FROM log_stream s
                    WHERE s.id = ? AND s.lease_token = CAST(? AS uuid)
                      AND d.stream_id = s.id AND d.outcome = 'redriving'""")) {
                ps.setString(1, failure.message());
                ps.setObject(2, failure.httpStatus());
                ps.setString(3, streamId);
                ps.setString(4, claimToken);
                ps.executeUpdate();
            }
            return false;
        }
    }

    /**
     * Route step after the redrive loop: lowers the stream's redrive flag unless dead letters still wait to be sent
     * (a later request's, or those a lost claim left). The stream's row is locked first: a request that marked more
     * holds that lock until it commits, so the check that follows sees its marks.
     */
    public void finished(String streamId, String claimToken) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement lock = c.prepareStatement(
                         "SELECT 1 FROM log_stream WHERE id = ? AND lease_token = CAST(? AS uuid) FOR UPDATE");
                 PreparedStatement lower = c.prepareStatement("""
                         UPDATE log_stream SET redrive_requested = false
                         WHERE id = ? AND NOT EXISTS (SELECT 1 FROM log_stream_delivery
                                                      WHERE stream_id = ? AND outcome = 'redriving')""")) {
                lock.setString(1, streamId);
                lock.setString(2, claimToken);
                try (ResultSet rs = lock.executeQuery()) {
                    if (rs.next()) {
                        lower.setString(1, streamId);
                        lower.setString(2, streamId);
                        lower.executeUpdate();
                    }
                }
                c.commit();
            } finally {
                c.rollback();
            }
        }
    }
}
