package dev.auditstream.delivery;

import dev.auditstream.destinations.Batch;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

import javax.sql.DataSource;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import dev.auditstream.alerts.Alerts;
import dev.auditstream.destinations.Failure;
import dev.auditstream.destinations.StoredEvent;

/**
 * The stream state machine's writes: what a delivery outcome does to a stream (state, backoff, batch size, dead
 * letters), each transition stored with its reason (and the alerts it causes, in the same transaction). Every write
 * of a drain is conditional on its claim's token.
 */
public final class StreamStates {

    /** The reason a stream paused through the API is stored with. */
    public static final String PAUSED = "Paused.";
    /** How the reason of a stream whose config lacks required members starts. */
    public static final String INCOMPLETE = "Configuration incomplete: missing ";

    private final DataSource dataSource;
    private final Duration backoffBase;
    private final Duration backoffMax;
    private final Duration invalidProbe;
    private final int maxBatch;
    private final MeterRegistry metrics;
    private final Alerts alerts;

    public StreamStates(DataSource dataSource, Duration backoffBase, Duration backoffMax, Duration invalidProbe,
                        int maxBatch, MeterRegistry metrics, Alerts alerts) {
        this.dataSource = dataSource;
        this.alerts = alerts;
        this.metrics = metrics;
        this.backoffBase = backoffBase;
        this.backoffMax = backoffMax;
        this.invalidProbe = invalidProbe;
        this.maxBatch = maxBatch;
    }

    /**
     * Accepted by the destination: back to {@code active}, and a halved batch size grows back. When the events were
     * those after a suspect (see {@link Batch#suspect()}), the suspect is proven refused alone: it is dead-lettered
     * with the refusal that isolated it (the cursor already moved past it with the accepted events).
     */
    public void delivered(String streamId, String organizationId, String claimToken, int events, Integer httpStatus,
                          long durationMs, StoredEvent provenRefused) throws SQLException {
        whileClaimed(streamId, claimToken, (c, locked) -> {
            String from = locked.state();
            if (provenRefused != null) {
                attempt(c, streamId, organizationId, 1, "dead_lettered", null, locked.lastError(), 0,
                        provenRefused.id());
                alerts.deadLettered(c, streamId, provenRefused.id(), locked.lastError());
            }
            try (PreparedStatement ps = c.prepareStatement("""
                        UPDATE log_stream SET state = 'active', state_reason = NULL, failures = 0, last_error = NULL,
                            state_changed_at = CASE WHEN state <> 'active' THEN now() ELSE state_changed_at END,
                            batch_limit = CASE WHEN batch_limit * 2 >= ? THEN NULL ELSE batch_limit * 2 END,
                            suspect_event_id = NULL
                        WHERE id = ? AND state <> 'inactive'
                          AND (state <> 'active' OR failures > 0 OR batch_limit IS NOT NULL
                               OR suspect_event_id IS NOT NULL)""")) {
                ps.setInt(1, maxBatch);
                ps.setString(2, streamId);
                ps.executeUpdate();
            }
            if (!from.equals("active") && !from.equals("inactive")) {
                transition(c, streamId, organizationId, from, "active", "The destination accepted a delivery.");
            }
            attempt(c, streamId, organizationId, events, "delivered", httpStatus, null, durationMs, null);
        });
    }

    /** What a change through the API does to a stream: its state and reason, and whether it is tried at once. */
    public record Change(String to, String reason, boolean retryNow) {
    }

    /**
     * A manual change (PATCH): a pause wins, then a config missing required members pauses the stream; a resume, or
     * a config completed for a stream paused as incomplete, reactivates it (a stream not paused keeps its state and
     * reason) and retries it now. A changed config alone is retried now in whatever state the stream is.
     *
     * @param requestedState "active", "inactive" or null
     * @param missing        the required config members the (changed) config lacks
     */
    public static Change decide(String from, String fromReason, String requestedState, List<String> missing,
                                boolean configChanged) {
        if ("inactive".equals(requestedState)) {
            return new Change("inactive", PAUSED, configChanged);
        }
        if (!missing.isEmpty()) {
            return new Change("inactive", INCOMPLETE + String.join(", ", missing) + ".", configChanged);
        }
        if ("active".equals(requestedState)
                || ("inactive".equals(from) && fromReason != null && fromReason.startsWith(INCOMPLETE))) {
            return from.equals("inactive") ? new Change("active", null, true) : new Change(from, fromReason, true);
        }
        return new Change(from, fromReason, configChanged);
    }

    /** Refused or unreachable: what happens next depends on the kind of failure. */
    public void failed(String streamId, String organizationId, String claimToken, Failure failure, Batch batch, int sent,
                       long durationMs) throws SQLException {
        whileClaimed(streamId, claimToken, (c, locked) -> {
            String from = locked.state();
            Failure seen = FailureRules.persisting(failure, from, locked.stateChangedAt(), locked.lastError(),
                    Instant.now());
            switch (seen.kind()) {
                case RETRY -> setState(c, streamId, organizationId, from, "error", seen,
                        backoff(locked.failures(), seen));
                case INVALID -> setState(c, streamId, organizationId, from, "invalid", seen, invalidProbe);
                case INTERNAL -> schedule(c, streamId, backoffBase.multipliedBy(5), null);
                case REJECTED -> {
                    if (batch != null && batch.suspect() != null) {
                        refusedEverything(c, streamId, organizationId, from, locked.failures(), seen);
                    } else {
                        isolate(c, streamId, seen, batch, sent);
                    }
                }
            }
            attempt(c, streamId, organizationId, sent, seen.kind().name().toLowerCase(),
                    seen.httpStatus(), seen.message(), durationMs, null);
        });
    }

    /**
     * The events after a suspect were refused too: no event is to blame. The stream goes to {@code error} (or
     * {@code invalid} for an answer about credentials) with the destination's answer, and starts over from the
     * suspect once it is retried; nothing is dead-lettered.
     */
    private void refusedEverything(Connection c, String streamId, String organizationId, String from, int failures,
                                   Failure refusal) throws SQLException {
        String to = FailureRules.stateWhenEverythingIsRefused(refusal.message());
        setState(c, streamId, organizationId, from, to, refusal,
                to.equals("invalid") ? invalidProbe : backoff(failures, refusal));
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE log_stream SET suspect_event_id = NULL, batch_limit = NULL WHERE id = ?")) {
            ps.setString(1, streamId);
            ps.executeUpdate();
        }
    }

    private interface LeasedWork {
        void run(Connection c, Locked locked) throws SQLException;
    }

    /** Runs the work in one transaction with the stream's row locked, if the claim's token is still the stream's. */
    private void whileClaimed(String streamId, String claimToken, LeasedWork work) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            Locked locked = lock(c, streamId, claimToken);
            if (locked != null) {
                work.run(c, locked);
            }
            c.commit();
        }
    }

    /**
     * A refused batch: keep what the destination said it took, halve the batch until the refused event is alone,
     * then suspect it: the next attempt sends the events after it (see {@link #delivered} and
     * {@link #refusedEverything} for what their answer proves).
     */
    private void isolate(Connection c, String streamId, Failure failure, Batch batch, int sent) throws SQLException {
        if (failure.acceptedBefore() > 0 && failure.acceptedBefore() < sent) {
            advance(c, streamId, batch.events().get(failure.acceptedBefore() - 1), failure.acceptedBefore());
            schedule(c, streamId, Duration.ZERO, null);
        } else if (sent > 1) {
            schedule(c, streamId, Duration.ZERO, Math.max(1, sent / 2));
        } else {
            // the refusal is kept as the reason it is dead-lettered with, if it comes to that
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE log_stream SET suspect_event_id = ?, last_error = ? WHERE id = ?")) {
                ps.setString(1, batch.events().get(0).id());
                ps.setString(2, failure.message());
                ps.setString(3, streamId);
                ps.executeUpdate();
            }
            schedule(c, streamId, Duration.ZERO, 1);
        }
    }

    private Duration backoff(int failures, Failure failure) {
        return backoff(failures, backoffBase, backoffMax, failure.retryAfterSeconds(), ThreadLocalRandom.current());
    }

    /**
     * Full jitter: uniformly random up to base × 2^failures (capped), and never sooner than Retry-After. The random
     * source is a parameter so the bounds can be tested.
     */
    public static Duration backoff(int failures, Duration base, Duration max, long retryAfterSeconds,
                                   RandomGenerator random) {
        long ceiling = Math.min(max.toMillis(), base.toMillis() << Math.min(failures, 20));
        long jittered = random.nextLong(ceiling + 1);
        return Duration.ofMillis(Math.max(jittered, retryAfterSeconds * 1000));
    }

    private record Locked(String state, int failures, Instant stateChangedAt, String lastError) {
    }

    /**
     * The stream's row, locked, while the claim's token is still the stream's (null once it is not); no token (a
     * test send from the API) needs no claim.
     */
    private static Locked lock(Connection c, String streamId, String claimToken) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT state, failures, state_changed_at, last_error FROM log_stream"
                        + " WHERE id = ? AND (?::uuid IS NULL OR lease_token = ?::uuid) FOR UPDATE")) {
            ps.setString(1, streamId);
            ps.setString(2, claimToken);
            ps.setString(3, claimToken);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Locked(rs.getString(1), rs.getInt(2), rs.getTimestamp(3).toInstant(),
                        rs.getString(4)) : null;
            }
        }
    }

    private void setState(Connection c, String streamId, String organizationId, String from, String to,
                                 Failure failure, Duration retryIn) throws SQLException {
        if (from.equals("inactive")) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE log_stream SET state = ?, state_reason = ?, last_error = ?, failures = failures + 1,
                    state_changed_at = CASE WHEN state <> ? THEN now() ELSE state_changed_at END,
                    next_attempt_at = now() + ? * interval '1 millisecond'
                WHERE id = ?""")) {
            ps.setString(1, to);
            ps.setString(2, failure.message());
            ps.setString(3, failure.message());
            ps.setString(4, to);
            ps.setLong(5, retryIn.toMillis());
            ps.setString(6, streamId);
            ps.executeUpdate();
        }
        if (!from.equals(to)) {
            transition(c, streamId, organizationId, from, to, failure.message());
        }
    }

    private static void schedule(Connection c, String streamId, Duration in, Integer batchLimit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE log_stream SET next_attempt_at = now() + ? * interval '1 millisecond', batch_limit = ?
                WHERE id = ?""")) {
            ps.setLong(1, in.toMillis());
            if (batchLimit == null) {
                ps.setNull(2, Types.INTEGER);
            } else {
                ps.setInt(2, batchLimit);
            }
            ps.setString(3, streamId);
            ps.executeUpdate();
        }
    }

    /** Moves the cursor past the {@code delivered} events the destination took, counting them in its usage. */
    private static void advance(Connection c, String streamId, StoredEvent past, int delivered) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                WITH advanced AS (UPDATE log_stream SET cursor_xid = ?::xid8, cursor_seq = ? WHERE id = ?
                                  RETURNING id, organization_id)
                INSERT INTO log_stream_usage (stream_id, month, organization_id, delivered)
                SELECT id, usage_month(now()), organization_id, ? FROM advanced
                ON CONFLICT (stream_id, month) DO UPDATE
                    SET delivered = log_stream_usage.delivered + excluded.delivered""")) {
            ps.setString(1, past.xid());
            ps.setLong(2, past.seq());
            ps.setString(3, streamId);
            ps.setInt(4, delivered);
            ps.executeUpdate();
        }
    }

    /** Stores a state change with its reason and time, queues the alerts it causes, and counts it. */
    public void transition(Connection c, String streamId, String organizationId, String from, String to,
                                  String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO log_stream_transition (stream_id, organization_id, from_state, to_state, reason)
                VALUES (?, ?, ?, ?, ?)""")) {
            ps.setString(1, streamId);
            ps.setString(2, organizationId);
            ps.setString(3, from);
            ps.setString(4, to);
            ps.setString(5, reason);
            ps.executeUpdate();
        }
        alerts.stateChanged(c, streamId, from, to, reason);
        Counter.builder("auditstream.stream.transitions").description("Stream state changes")
                .tag("from", from).tag("to", to).register(metrics).increment();
    }

    /** One row of the stream's recent deliveries. */
    public static void attempt(Connection c, String streamId, String organizationId, int events, String outcome,
                               Integer httpStatus, String error, long durationMs, String eventId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO log_stream_delivery (stream_id, organization_id, events, outcome, http_status, error,
                                                 duration_ms, event_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)""")) {
            ps.setString(1, streamId);
            ps.setString(2, organizationId);
            ps.setInt(3, events);
            ps.setString(4, outcome);
            ps.setObject(5, httpStatus);
            ps.setString(6, error);
            ps.setLong(7, durationMs);
            ps.setString(8, eventId);
            ps.executeUpdate();
        }
    }
}
