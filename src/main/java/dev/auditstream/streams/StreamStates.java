package dev.auditstream.streams;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import javax.sql.DataSource;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import dev.auditstream.destinations.Failure;
import dev.auditstream.destinations.StoredEvent;

/**
 * The stream state machine's writes: what a delivery outcome does to a stream (state, backoff, batch size, dead
 * letters), each transition stored with its reason. Every write of a drain is conditional on its claim's token.
 */
public final class StreamStates {

    private final DataSource dataSource;
    private final Duration backoffBase;
    private final Duration backoffMax;
    private final Duration invalidProbe;
    private final int maxBatch;
    private final MeterRegistry metrics;

    public StreamStates(DataSource dataSource, Duration backoffBase, Duration backoffMax, Duration invalidProbe,
                        int maxBatch, MeterRegistry metrics) {
        this.dataSource = dataSource;
        this.metrics = metrics;
        this.backoffBase = backoffBase;
        this.backoffMax = backoffMax;
        this.invalidProbe = invalidProbe;
        this.maxBatch = maxBatch;
    }

    /** Accepted by the destination: back to {@code active}, and a halved batch size grows back. */
    public void delivered(String streamId, String organizationId, String claimToken, int events, Integer httpStatus,
                          long durationMs) throws SQLException {
        whileClaimed(streamId, claimToken, (c, locked) -> {
            String from = locked.state();
            try (PreparedStatement ps = c.prepareStatement("""
                        UPDATE log_stream SET state = 'active', state_reason = NULL, failures = 0, last_error = NULL,
                            state_changed_at = CASE WHEN state <> 'active' THEN now() ELSE state_changed_at END,
                            batch_limit = CASE WHEN batch_limit * 2 >= ? THEN NULL ELSE batch_limit * 2 END
                        WHERE id = ? AND state <> 'inactive'
                          AND (state <> 'active' OR failures > 0 OR batch_limit IS NOT NULL)""")) {
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

    /** Refused or unreachable: what happens next depends on the kind of failure. */
    public void failed(String streamId, String organizationId, String claimToken, Failure failure, Batch batch, int sent,
                       long durationMs) throws SQLException {
        whileClaimed(streamId, claimToken, (c, locked) -> {
            String from = locked.state();
            switch (failure.kind()) {
                case RETRY -> setState(c, streamId, organizationId, from, "error", failure,
                        backoff(locked.failures(), failure));
                case INVALID -> setState(c, streamId, organizationId, from, "invalid", failure, invalidProbe);
                case INTERNAL -> schedule(c, streamId, backoffBase.multipliedBy(5), null);
                case REJECTED -> isolate(c, streamId, organizationId, failure, batch, sent, durationMs);
            }
            if (failure.kind() != Failure.Kind.REJECTED || sent > 1) {
                attempt(c, streamId, organizationId, sent, failure.kind().name().toLowerCase(),
                        failure.httpStatus(), failure.message(), durationMs, null);
            }
        });
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
     * then dead-letter it (recorded with its id for this stream) and go on.
     */
    private void isolate(Connection c, String streamId, String organizationId, Failure failure, Batch batch, int sent,
                         long durationMs) throws SQLException {
        if (failure.acceptedBefore() > 0 && failure.acceptedBefore() < sent) {
            advance(c, streamId, batch.events().get(failure.acceptedBefore() - 1));
            schedule(c, streamId, Duration.ZERO, null);
        } else if (sent > 1) {
            schedule(c, streamId, Duration.ZERO, Math.max(1, sent / 2));
        } else {
            StoredEvent poison = batch.events().get(0);
            attempt(c, streamId, organizationId, 1, "dead_lettered", failure.httpStatus(), failure.message(),
                    durationMs, poison.id());
            advance(c, streamId, poison);
            schedule(c, streamId, Duration.ZERO, null);
        }
    }

    /** Full jitter: uniformly random up to base × 2^failures (capped), and never sooner than Retry-After. */
    private Duration backoff(int failures, Failure failure) {
        long ceiling = Math.min(backoffMax.toMillis(), backoffBase.toMillis() << Math.min(failures, 20));
        long jittered = ThreadLocalRandom.current().nextLong(ceiling + 1);
        return Duration.ofMillis(Math.max(jittered, failure.retryAfterSeconds() * 1000));
    }

    private record Locked(String state, int failures) {
    }

    /**
     * The stream's row, locked, while the claim's token is still the stream's (null once it is not); no token (a
     * test send from the API) needs no claim.
     */
    private static Locked lock(Connection c, String streamId, String claimToken) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT state, failures FROM log_stream WHERE id = ? AND (?::uuid IS NULL OR lease_token = ?::uuid) FOR UPDATE")) {
            ps.setString(1, streamId);
            ps.setString(2, claimToken);
            ps.setString(3, claimToken);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Locked(rs.getString(1), rs.getInt(2)) : null;
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

    private static void advance(Connection c, String streamId, StoredEvent past) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE log_stream SET cursor_xid = ?::xid8, cursor_seq = ? WHERE id = ?")) {
            ps.setString(1, past.xid());
            ps.setLong(2, past.seq());
            ps.setString(3, streamId);
            ps.executeUpdate();
        }
    }

    /** Stores a state change with its reason and time, and counts it. */
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
