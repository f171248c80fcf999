package dev.auditstream.delivery;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.apache.camel.Exchange;
import org.apache.camel.Variable;
import org.apache.camel.support.SynchronizationAdapter;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.auditstream.db.Transactions;

/**
 * This instance's delivery workers and the claims they hold. A claim takes a worker slot from the moment the claim
 * query returned it until its drain's exchange is done, however it ends (a Camel {@code Synchronization}, which no
 * handled failure skips) or until its hand-off to a worker failed. Each claim carries the token the claim query set
 * in {@code log_stream.lease_token}: every write of its drain is conditional on it, and a change to the stream, a
 * replay or another claim replaces it, so a drain that lost its claim can neither send nor write any more. While
 * a batch takes long (slow destinations, many object uploads) a heartbeat renews the leases three times per lease.
 */
public final class DeliveryWorkers extends ServiceSupport {

    private static final Logger LOG = LoggerFactory.getLogger(DeliveryWorkers.class);

    /** One claim of one stream. {@code lost} once this instance learnt the token is no longer the stream's. */
    public static final class Claim {
        private final String streamId;
        private final String organizationId;
        private final String token;
        private final long claimedAt = System.nanoTime();
        private volatile long renewedAt = claimedAt;
        private volatile boolean lost;
        private long shareStart = claimedAt;
        private int batches;
        private volatile boolean atHead;
        private volatile boolean givenBack;
        private final Map<String, Object> stream;

        Claim(String streamId, String organizationId, String token, Map<String, Object> stream) {
            this.streamId = streamId;
            this.organizationId = organizationId;
            this.token = token;
            this.stream = stream;
        }

        public String streamId() {
            return streamId;
        }

        public String organizationId() {
            return organizationId;
        }

        public String token() {
            return token;
        }

        public boolean lost() {
            return lost;
        }

        /** The lease was given back with the drain's last cursor move: its release frees only the worker slot. */
        void givenBack() {
            givenBack = true;
        }

        /** The stream's row as the claim query returned it (config, secrets, cursor): read once per claim. */
        public Map<String, Object> stream() {
            return stream;
        }

    }

    /** Another stream due now, with events waiting, that no live instance holds (the claim query's condition). */
    static final String OTHERS_DUE = """
            SELECT 1 FROM log_stream s
            WHERE s.id <> ? AND s.state <> 'inactive' AND s.next_attempt_at <= now()
              AND (s.lease_until IS NULL OR s.lease_until < now()) AND NOT s.caught_up
              AND (SELECT true FROM audit_event e
                   WHERE e.organization_id = s.organization_id AND (e.xid, e.seq) > (s.cursor_xid, s.cursor_seq)
                     AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
                   ORDER BY e.xid, e.seq LIMIT 1)
            LIMIT 1""";

    /**
     * The due streams that need no look into the log, longest-waiting first, are listed first (materialized: the
     * planner may not fold the costly condition into that scan and sort after it); the log is then looked into for
     * them in that order only until enough are found. A plan that probed every due stream's events before sorting
     * made a pass cost ~100 ms at 1,000 busy streams. The look is the first event after the cursor in the log's
     * order, so it walks the primary key from the cursor: as an EXISTS the planner chose to scan the whole table
     * for an organization with a long log behind its cursor (120 ms per probe at 400,000 events). Rows another
     * claim holds are skipped.
     */
    static final String CLAIM = """
            WITH due AS MATERIALIZED (
                SELECT id, organization_id, cursor_xid, cursor_seq, redrive_requested FROM log_stream
                WHERE state <> 'inactive' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
                  AND (redrive_requested OR NOT caught_up)
                ORDER BY next_attempt_at),
            wanted AS (
                SELECT d.id FROM due d
                WHERE d.redrive_requested OR (SELECT true FROM audit_event e
                    WHERE e.organization_id = d.organization_id AND (e.xid, e.seq) > (d.cursor_xid, d.cursor_seq)
                      AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
                    ORDER BY e.xid, e.seq LIMIT 1)
                LIMIT ?)
            UPDATE log_stream SET lease_owner = ?, lease_token = gen_random_uuid(),
                lease_until = now() + ? * interval '1 millisecond'
            WHERE id IN (SELECT s.id FROM log_stream s
                WHERE s.id IN (SELECT id FROM wanted) AND s.state <> 'inactive'
                  AND (s.lease_until IS NULL OR s.lease_until < now())
                FOR UPDATE SKIP LOCKED)
            RETURNING id, organization_id, lease_token::text AS token, type, config::text AS config, secrets,
                config_version, filters::text AS filters, batch_limit, suspect_event_id, cursor_xid::text AS cursor_xid,
                cursor_seq, state, failures, redrive_requested""";

    /** The lease given back; with the mark asked for, caught up only with nothing at all after the cursor. */
    static final String RELEASE = """
            UPDATE log_stream s SET lease_owner = NULL, lease_until = NULL,
                next_attempt_at = greatest(s.next_attempt_at, now()),
                caught_up = ? AND NOT s.redrive_requested AND (SELECT true FROM audit_event e
                    WHERE e.organization_id = s.organization_id AND (e.xid, e.seq) > (s.cursor_xid, s.cursor_seq)
                    ORDER BY e.xid, e.seq LIMIT 1) IS NULL
            WHERE s.id = ? AND s.lease_token = ?::uuid""";

    private final String owner = "instance-" + UUID.randomUUID();
    private final int workers;
    private final IdleStreams idleStreams;
    private final long fairShareNanos;
    private final int fairShareBatches;
    private final Duration lease;
    private final long leaseNanos;
    private final DataSource dataSource;
    private final ScheduledExecutorService heartbeat;
    private final Map<String, Claim> held = new ConcurrentHashMap<>();
    private final Set<String> draining = ConcurrentHashMap.newKeySet();
    private volatile Runnable slotFreed = () -> { };

    /** @param idleStreams marks a stream caught up when its drain gives the lease back at its organization's head */
    public DeliveryWorkers(int workers, Duration lease, Duration fairShare, int fairShareBatches, DataSource dataSource,
                           IdleStreams idleStreams, ScheduledExecutorService heartbeat) {
        this.workers = workers;
        this.idleStreams = idleStreams;
        this.fairShareNanos = fairShare.toNanos();
        this.fairShareBatches = fairShareBatches;
        this.lease = lease;
        this.leaseNanos = lease.toNanos();
        this.dataSource = dataSource;
        this.heartbeat = heartbeat;
    }

    @Override
    protected void doStart() {
        long every = Math.max(100, lease.toMillis() / 3);
        heartbeat.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
    }

    @Override
    protected void doStop() {
        heartbeat.shutdownNow();
    }

    /**
     * What to do when a worker slot is free again: ask for a claim pass, so a freed worker takes the next due stream
     * at once instead of at the next poll, and a stream whose wake-up came while it was still leased is not left
     * waiting for the timer.
     */
    public void onSlotFreed(Runnable action) {
        this.slotFreed = action;
    }

    /** This instance's name in {@code lease_owner} (for operators, and to give every lease back on stop). */
    public String owner() {
        return owner;
    }

    public int workers() {
        return workers;
    }

    public int freeSlots() {
        return Math.max(0, workers - held.size());
    }

    /** Claims whose drain runs on a worker now (handed off and begun, not yet done). */
    public int inFlight() {
        return draining.size();
    }

    /**
     * Route step of a claim pass: claims up to {@code slots} due streams, each holding a worker slot from now on.
     * Due: not paused, not backing off, not leased by a live instance, with events after the cursor below the
     * watermark (looked for in the log only for streams not marked caught up) or dead letters to send again; the
     * longest-waiting first. Each claim gets a token of its own, which every write of its drain is conditional on.
     * The rows come back whole (config, secrets, cursor): the drain reads them once per claim from here.
     */
    public List<Claim> claim(@Variable("slots") int slots) throws SQLException {
        List<Map<String, Object>> rows = new ArrayList<>(slots);
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(CLAIM)) {
            ps.setInt(1, slots);
            ps.setString(2, owner);
            ps.setLong(3, lease.toMillis());
            try (ResultSet rs = ps.executeQuery()) {
                ResultSetMetaData columns = rs.getMetaData();
                while (rs.next()) {
                    Map<String, Object> row = new HashMap<>();
                    for (int i = 1; i <= columns.getColumnCount(); i++) {
                        row.put(columns.getColumnLabel(i), rs.getObject(i));
                    }
                    rows.add(row);
                }
            }
        }
        return claimed(rows);
    }

    /** The claimed rows as claims, each holding a worker slot from now on. */
    List<Claim> claimed(List<Map<String, Object>> rows) {
        List<Claim> claims = new ArrayList<>(rows.size());
        for (Map<String, Object> row : rows) {
            Claim claim = new Claim((String) row.get("id"), (String) row.get("organization_id"),
                    (String) row.get("token"), row);
            held.put(claim.token, claim);
            claims.add(claim);
        }
        return claims;
    }

    /**
     * Route step, the first of a drain: from here on, the claim is given back when the exchange is done, whether it
     * completed or failed (a handled failure included).
     */
    public void begin(Exchange exchange) {
        Claim claim = exchange.getMessage().getBody(Claim.class);
        draining.add(claim.token);
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                release(claim);
            }
        });
    }

    /** Route step when a claim could not be handed to a worker: its slot and lease are given back at once. */
    public void abandon(Exchange exchange) {
        release(exchange.getMessage().getBody(Claim.class));
    }

    /** Route step when a drain found nothing after its cursor: its release may mark the stream caught up. */
    public void reachedHead(@Variable("claim") Claim claim) {
        claim.atHead = true;
    }

    /**
     * Gives the lease back (if the token is still the stream's) and, whatever that does, the worker slot. The stream
     * is due again only from now (a backoff already set stays): claims take the longest-waiting streams first, so
     * busy streams are visited in turn rather than the same few first every pass. A drain that reached its
     * organization's head marks the stream caught up as it goes, under the marking's lock and in a statement that
     * starts after it (the protocol of IdleStreams): a busy stream is not looked for in the log again until a
     * wake-up names its organization.
     */
    void release(Claim claim) {
        try {
            if (!claim.givenBack) {
                giveBack(claim);
            }
        } catch (SQLException | RuntimeException e) {
            LOG.warn("Could not give back the lease of stream {} (it expires by itself): {}", claim.streamId,
                    e.getMessage());
        } finally {
            draining.remove(claim.token);
            held.remove(claim.token);
        }
        try {
            slotFreed.run();
        } catch (RuntimeException e) {
            LOG.debug("No claim pass after stream {}'s drain (stopping?): {}", claim.streamId, e.getMessage());
        }
    }

    private void giveBack(Claim claim) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            Transactions.inTransaction(c, tx -> {
                boolean mark = claim.atHead && idleStreams.mayMark(tx);
                try (PreparedStatement ps = tx.prepareStatement(RELEASE)) {
                    ps.setBoolean(1, mark);
                    ps.setString(2, claim.streamId);
                    ps.setString(3, claim.token);
                    ps.executeUpdate();
                }
                return null;
            });
        }
    }

    /**
     * Route step after each batch: true when the claim has had its fair share (a time or a number of batches) while
     * other streams are due and no worker of this instance is free for them; the drain then gives its worker up.
     */
    public boolean yields(@Variable("claim") Claim claim) throws SQLException {
        claim.batches++;
        if (System.nanoTime() - claim.shareStart < fairShareNanos && claim.batches < fairShareBatches) {
            return false;
        }
        claim.shareStart = System.nanoTime();
        claim.batches = 0;
        if (freeSlots() > 0) {
            return false; // a due stream gets a free worker at the next poll
        }
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(OTHERS_DUE)) {
            ps.setString(1, claim.streamId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * Route step just before a request goes out: false once the claim's token is no longer the stream's (changed,
     * paused, replayed, claimed by another instance after the lease ran out). A test send has no claim.
     */
    public boolean holds(@Variable("claim") Claim claim) throws SQLException {
        if (claim == null) {
            return true;
        }
        if (claim.lost) {
            return false;
        }
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT 1 FROM log_stream WHERE id = ? AND lease_token = ?::uuid AND state <> 'inactive'")) {
            ps.setString(1, claim.streamId);
            ps.setString(2, claim.token);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    claim.lost = true;
                }
            }
        }
        return !claim.lost;
    }

    /**
     * Extends the leases with these tokens that are still held: a lease given back meanwhile (its drain ended after
     * the tokens were taken) stays given back, or the stream would wait a whole lease for nothing.
     */
    Set<String> extend(Set<String> tokens) throws SQLException {
        Set<String> renewed = new HashSet<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("""
                     UPDATE log_stream SET lease_until = now() + ? * interval '1 millisecond'
                     WHERE lease_token = ANY (?) AND lease_until IS NOT NULL AND state <> 'inactive'
                     RETURNING lease_token::text""")) {
            ps.setLong(1, lease.toMillis());
            ps.setArray(2, c.createArrayOf("uuid", tokens.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    renewed.add(rs.getString(1));
                }
            }
        }
        return renewed;
    }

    /**
     * The lease heartbeat: extends the lease of every claim held. A claim whose token is gone, or whose lease ran out
     * while renewals failed, is lost: its drain stops before its next request.
     */
    void renew() {
        if (held.isEmpty()) {
            return;
        }
        Set<String> asked = new HashSet<>(held.keySet());
        Set<String> renewed;
        try {
            renewed = extend(asked);
        } catch (SQLException | RuntimeException e) {
            LOG.warn("Could not renew delivery leases: {}", e.getMessage());
            long now = System.nanoTime();
            held.values().stream().filter(claim -> now - claim.renewedAt > leaseNanos)
                    .forEach(claim -> claim.lost = true);
            return;
        }
        long now = System.nanoTime();
        for (String token : asked) {
            Claim claim = held.get(token);
            if (claim != null && renewed.contains(token)) {
                claim.renewedAt = now;
            } else if (claim != null) {
                claim.lost = true;
            }
        }
    }
}
