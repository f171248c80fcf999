package dev.auditstream.events;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import javax.sql.DataSource;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.camel.Body;
import org.apache.camel.Header;
import org.apache.camel.support.service.ServiceSupport;
import org.postgresql.util.PSQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.auditstream.api.ApiException;
import dev.auditstream.api.FieldError;
import dev.auditstream.api.Timestamps;
import dev.auditstream.db.SqlStates;

/**
 * Appends events to the audit log with group commit: each request waits while a writer thread takes everything
 * queued (up to a batch) and stores it with one multi-row INSERT in one transaction; the request is answered only
 * after that commit. Idempotency keys are claimed in the same transaction, so a key's event is stored exactly
 * once however many requests race with it.
 */
public final class EventLog extends ServiceSupport {

    private static final Logger LOG = LoggerFactory.getLogger(EventLog.class);
    private static final int MAX_KEY_LENGTH = 255;

    /** The audit_event columns an event fills; both writers bind {@link #VALUES} to them in this order. */
    private static final String COLUMNS = "organization_id, id, action, occurred_at, accepted_at, actor_id, "
            + "actor_name, target_ids, target_types, event";
    /** An event's value for each of {@link #COLUMNS}, as text (the statements cast it to the column's type). */
    private static final List<Function<IncomingEvent, String>> VALUES = List.of(
            IncomingEvent::organizationId,
            IncomingEvent::id,
            IncomingEvent::action,
            e -> Timestamps.iso(e.occurredAt()),
            e -> Timestamps.iso(e.acceptedAt()),
            IncomingEvent::actorId,
            IncomingEvent::actorName,
            e -> PgArrays.literal(e.targetIds()),
            e -> PgArrays.literal(e.targetTypes()),
            IncomingEvent::json);

    /**
     * One statement, so one round trip and one implicit transaction per batch: claim the batch's idempotency keys
     * (a key already used within 24 hours stays with its first request), then insert the events that have no key or
     * whose key was just claimed. Returns the claimed keys.
     */
    private static final String APPEND = """
            WITH claimed AS (
                INSERT INTO idempotency_key (key, request_hash, event_id)
                SELECT k, decode(h, 'hex'), i FROM unnest(?::text[], ?::text[], ?::text[]) AS t(k, h, i)
                WHERE k IS NOT NULL
                ON CONFLICT (key) DO UPDATE
                    SET request_hash = excluded.request_hash, event_id = excluded.event_id, created_at = now()
                    WHERE idempotency_key.created_at < now() - interval '24 hours'
                RETURNING key),
            stored AS (
                INSERT INTO audit_event (%s)
                SELECT o, i, a, oc::timestamptz, ac::timestamptz, ai, an, ti::text[], tt::text[], e
                FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                            ?::text[], ?::text[], ?::text[], ?::text[]) AS t(o, i, a, oc, ac, ai, an, ti, tt, e, k)
                WHERE k IS NULL OR k IN (SELECT key FROM claimed))
            SELECT key FROM claimed""".formatted(COLUMNS);

    private static final String INSERT_ONE = "INSERT INTO audit_event (" + COLUMNS + ") "
            + "VALUES (?, ?, ?, ?::timestamptz, ?::timestamptz, ?, ?, ?::text[], ?::text[], ?)";

    private static final String FIND_KEYS = "SELECT key, encode(request_hash, 'hex') FROM idempotency_key WHERE key = ANY(?)";

    private static final Comparator<Pending> BY_KEY =
            Comparator.comparing(Pending::key, Comparator.nullsLast(Comparator.naturalOrder()));

    /** One request waiting for its commit. */
    private record Pending(IncomingEvent event, String key, String requestHash, long enqueuedNanos,
                           CompletableFuture<Void> committed) {
    }

    private final DataSource dataSource;
    private final BlockingQueue<Pending> queue;
    private final int maxBatch;
    private final int writers;
    private final Duration commitTimeout;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean accepting;

    private final Counter accepted;
    private final Counter replayed;
    private final Counter refusedByDatabase;
    private final AtomicInteger waiting = new AtomicInteger();
    private final DistributionSummary batchSize;
    private final Timer commitTime;
    private final Timer ingestLatency;

    public EventLog(DataSource dataSource, MeterRegistry metrics, int writers, int maxBatch, int queueCapacity,
                    Duration commitTimeout) {
        this.dataSource = dataSource;
        this.writers = writers;
        this.maxBatch = maxBatch;
        this.commitTimeout = commitTimeout;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.accepted = Counter.builder("auditstream.events.accepted")
                .description("Events committed to the audit log").register(metrics);
        this.replayed = Counter.builder("auditstream.events.idempotent.replays")
                .description("Requests answered from an earlier request with the same Idempotency-Key").register(metrics);
        this.refusedByDatabase = Counter.builder("auditstream.events.refused.by.database")
                .description("Events PostgreSQL refused although they passed validation (answered 422)").register(metrics);
        Gauge.builder("auditstream.ingest.waiting", waiting, AtomicInteger::get)
                .description("Requests waiting for their event to be committed").register(metrics);
        this.batchSize = DistributionSummary.builder("auditstream.ingest.batch.size")
                .description("Events per group-commit transaction").register(metrics);
        this.commitTime = Timer.builder("auditstream.ingest.commit")
                .description("Time to insert and commit one group-commit batch").register(metrics);
        this.ingestLatency = Timer.builder("auditstream.ingest.latency")
                .description("Time from a validated event to its commit").publishPercentiles(0.5, 0.99)
                .register(metrics);
    }

    /**
     * Stores the event and returns once it is committed. With an idempotency key already used in the last 24 hours
     * nothing new is stored: the same body answers as the first request did, another body is refused.
     */
    public void append(@Body IncomingEvent event, @Header("Idempotency-Key") String idempotencyKey) {
        if (!accepting) {
            throw ApiException.unavailable("The service is shutting down; retry against another instance.");
        }
        String key = idempotencyKey == null || idempotencyKey.isBlank() ? null : checkedKey(idempotencyKey);
        String hash = key == null ? null : RequestHash.of(event);
        Pending pending = new Pending(event, key, hash, System.nanoTime(), new CompletableFuture<>());
        if (!queue.offer(pending)) {
            throw ApiException.unavailable("Too many events waiting to be stored; retry shortly.");
        }
        waiting.incrementAndGet();
        try {
            pending.committed().get(commitTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ApiException api) {
                throw api;
            }
            throw ApiException.unavailable("The event could not be stored; retry the request.");
        } catch (TimeoutException e) {
            throw ApiException.unavailable("Storing the event took too long; retry with the same Idempotency-Key.");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.unavailable("Interrupted while storing the event.");
        } finally {
            waiting.decrementAndGet();
        }
    }

    /** A key PostgreSQL stores and indexes as given: at most 255 characters, no control characters. */
    private static String checkedKey(String key) {
        if (key.length() > MAX_KEY_LENGTH || key.chars().anyMatch(Character::isISOControl)) {
            throw ApiException.badRequest("invalid_idempotency_key", "Idempotency-Key must be at most "
                    + MAX_KEY_LENGTH + " characters without control characters; a v4 UUID is a good key.");
        }
        return key;
    }

    @Override
    protected void doStart() {
        accepting = true;
        for (int i = 0; i < writers; i++) {
            Thread thread = new Thread(this::writeLoop, "event-log-writer-" + i);
            thread.setDaemon(true);
            thread.start();
            threads.add(thread);
        }
    }

    /** Stops taking events, then lets the writers store everything already queued. */
    @Override
    protected void doStop() throws InterruptedException {
        accepting = false;
        for (Thread thread : threads) {
            thread.join(commitTimeout.toMillis());
        }
        threads.clear();
    }

    private void writeLoop() {
        List<Pending> batch = new ArrayList<>(maxBatch);
        while (accepting || !queue.isEmpty()) {
            try {
                Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, maxBatch - 1);
                write(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                LOG.error("Event log writer failed on a batch of {}", batch.size(), e);
                batch.forEach(p -> p.committed().completeExceptionally(e));
            } finally {
                batch.clear();
            }
        }
    }

    private void write(List<Pending> batch) {
        // a key twice in one batch: the first request claims it, the others are answered as repeats
        List<Pending> rows = new ArrayList<>(batch.size());
        List<Pending> repeats = new ArrayList<>();
        Set<String> keysInBatch = new HashSet<>();
        for (Pending p : batch) {
            (p.key() == null || keysInBatch.add(p.key()) ? rows : repeats).add(p);
        }
        // keys are claimed in one order by every batch, so two batches sharing keys cannot deadlock
        rows.sort(BY_KEY);
        long start = System.nanoTime();
        int stored = store(rows, repeats);
        commitTime.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        batchSize.record(stored);
        accepted.increment(stored);
        if (!repeats.isEmpty()) {
            answerRepeats(repeats);
        }
    }

    /**
     * Stores the rows with one statement and answers them; returns how many were stored. When PostgreSQL refuses the
     * statement for its data, each half is stored on its own, down to the one row it refuses, so a bad event fails
     * alone with a 422 instead of failing every request it shared the batch with. Rows whose key was claimed before
     * are added to {@code repeats}.
     */
    private int store(List<Pending> rows, List<Pending> repeats) {
        Set<String> claimed;
        try {
            claimed = insert(rows);
        } catch (SQLException e) {
            if (SqlStates.unreachable(e)) {
                LOG.warn("Could not store a batch of {} events: {}", rows.size(), e.getMessage());
                rows.forEach(p -> p.committed().completeExceptionally(
                        ApiException.unavailable("The database is unavailable; retry with the same Idempotency-Key.")));
                return 0;
            }
            if (rows.size() > 1) {
                int half = rows.size() / 2;
                return store(rows.subList(0, half), repeats) + store(rows.subList(half, rows.size()), repeats);
            }
            rows.get(0).committed().completeExceptionally(refusal(e));
            return 0;
        }
        long now = System.nanoTime();
        int stored = 0;
        for (Pending p : rows) {
            if (p.key() != null && !claimed.contains(p.key())) {
                repeats.add(p);
                continue;
            }
            stored++;
            ingestLatency.record(now - p.enqueuedNanos(), TimeUnit.NANOSECONDS);
            p.committed().complete(null);
        }
        return stored;
    }

    /** What one event's request gets when PostgreSQL refuses it on its own: its data (422), or our failure (503). */
    private ApiException refusal(SQLException e) {
        if (SqlStates.refusedData(e)) {
            refusedByDatabase.increment();
            String reason = e instanceof PSQLException psql && psql.getServerErrorMessage() != null
                    ? psql.getServerErrorMessage().getMessage() : "a value is out of range.";
            return ApiException.invalid(List.of(FieldError.of("event", "not_storable",
                    "PostgreSQL refused to store this event: " + reason)));
        }
        LOG.error("Could not store an event", e);
        return ApiException.unavailable("The event could not be stored; retry with the same Idempotency-Key.");
    }

    /** One statement, one implicit transaction: claims the rows' keys, inserts their events; returns the claimed keys. */
    private Set<String> insert(List<Pending> rows) throws SQLException {
        Set<String> claimed = new HashSet<>();
        try (Connection connection = dataSource.getConnection();
             PreparedStatement ps = connection.prepareStatement(APPEND)) {
            ps.setArray(1, texts(connection, rows, Pending::key));
            ps.setArray(2, texts(connection, rows, Pending::requestHash));
            ps.setArray(3, texts(connection, rows, p -> p.event().id()));
            for (int column = 0; column < VALUES.size(); column++) {
                Function<IncomingEvent, String> value = VALUES.get(column);
                ps.setArray(4 + column, texts(connection, rows, p -> value.apply(p.event())));
            }
            ps.setArray(4 + VALUES.size(), texts(connection, rows, Pending::key));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    claimed.add(rs.getString(1));
                }
            }
        }
        return claimed;
    }

    /**
     * Inserts one event on the caller's connection, so it commits or rolls back with whatever else that transaction
     * does (the service's own events, with the change they record). No idempotency key, no group commit.
     */
    static void insert(Connection connection, IncomingEvent event) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(INSERT_ONE)) {
            for (int column = 0; column < VALUES.size(); column++) {
                ps.setString(1 + column, VALUES.get(column).apply(event));
            }
            ps.executeUpdate();
        }
    }

    /** A request whose key was used before: same body → the first answer again; another body → 400. */
    private void answerRepeats(List<Pending> repeats) {
        Map<String, String> stored = new HashMap<>();
        try (Connection connection = dataSource.getConnection();
             PreparedStatement ps = connection.prepareStatement(FIND_KEYS)) {
            ps.setArray(1, texts(connection, repeats, Pending::key));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    stored.put(rs.getString(1), rs.getString(2));
                }
            }
        } catch (SQLException e) {
            repeats.forEach(p -> p.committed().completeExceptionally(e));
            return;
        }
        for (Pending p : repeats) {
            String hash = stored.get(p.key());
            if (hash == null) {
                // the key expired and was purged meanwhile: store this request as a new one
                if (!queue.offer(p)) {
                    p.committed().completeExceptionally(ApiException.unavailable("Retry the request."));
                }
            } else if (hash.equals(p.requestHash())) {
                replayed.increment();
                p.committed().complete(null);
            } else {
                p.committed().completeExceptionally(ApiException.badRequest("idempotency_key_reused",
                        "This Idempotency-Key was already used with a different request body within 24 hours; "
                                + "use a new key for a new event."));
            }
        }
    }

    private static Array texts(Connection connection, List<Pending> rows, Function<Pending, String> column)
            throws SQLException {
        String[] values = new String[rows.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = column.apply(rows.get(i));
        }
        return connection.createArrayOf("text", values);
    }

}
