package dev.auditstream.delivery;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.function.BooleanSupplier;

import javax.sql.DataSource;

import dev.auditstream.db.Transactions;

/**
 * Marks streams whose cursor is at their organization's head as caught up ({@code log_stream.caught_up}), so that
 * the claim looks into the audit log only for streams that may have work: an idle stream costs a claim pass no index
 * probe. A commit's wake-up clears the mark of its organizations' streams (see {@link CommitWakeups}), so the mark
 * is set only while this instance's listener hears every commit.
 * <p>
 * Marking and clearing exclude each other by an advisory lock, exclusive for the marking, shared by the listeners'
 * clearing, and each looks at the rows in a statement that starts after its lock was taken. A wake-up for an event
 * the marking statement cannot see started after the event committed, so it either finished before the marking took
 * its lock (and the marking, started later, sees the event) or it waits for the marking's commit and clears the
 * mark after it. A stream counts as caught up only with nothing at all after its cursor, below the watermark or not,
 * so events that committed behind an older running transaction keep it looked at until they are delivered.
 */
public final class IdleStreams {

    /**
     * Due streams no instance holds, with no dead letters to send again and nothing after their cursor. Rows another
     * transaction holds are left for the next time: the claim pass this runs in never waits for a row.
     */
    static final String MARK_CAUGHT_UP = """
            UPDATE log_stream s SET caught_up = true
            WHERE s.id IN (SELECT id FROM log_stream
                           WHERE NOT caught_up AND state <> 'inactive' AND NOT redrive_requested
                             AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
                           FOR NO KEY UPDATE SKIP LOCKED)
              AND (SELECT true FROM audit_event e
                   WHERE e.organization_id = s.organization_id AND (e.xid, e.seq) > (s.cursor_xid, s.cursor_seq)
                   ORDER BY e.xid, e.seq LIMIT 1) IS NULL""";

    private final DataSource dataSource;
    private final long lock;
    private final long everyNanos;
    private final BooleanSupplier listening;
    private long lastCheck;
    private boolean checked;

    /**
     * @param lock      the advisory lock between marking and the wake-ups' clearing
     * @param every     at most one marking per this interval (claim passes run far more often while events come in)
     * @param listening whether every commit's wake-up reaches this instance now
     */
    public IdleStreams(DataSource dataSource, long lock, Duration every, BooleanSupplier listening) {
        this.dataSource = dataSource;
        this.lock = lock;
        this.everyNanos = every.toNanos();
        this.listening = listening;
    }

    /** Route step of the claim pass (one at a time): marks the streams found at their organization's head. */
    public void markCaughtUp() throws SQLException {
        long now = System.nanoTime();
        if (!listening.getAsBoolean() || (checked && now - lastCheck < everyNanos)) {
            return;
        }
        checked = true;
        lastCheck = now;
        try (Connection c = dataSource.getConnection()) {
            Transactions.inTransaction(c, tx -> {
                // while a wake-up clears marks, or another instance marks: the next pass marks
                if (Transactions.tryAdvisoryLock(tx, lock)) {
                    try (PreparedStatement ps = tx.prepareStatement(MARK_CAUGHT_UP)) {
                        ps.executeUpdate();
                    }
                }
                return null;
            });
        }
    }

    /**
     * In a drain's release, before its statement: true when that statement may mark the stream (this instance hears
     * every wake-up, and the marking's lock is taken for the transaction; another marking or a clearing holding it
     * means no mark this time).
     */
    boolean mayMark(Connection tx) throws SQLException {
        return listening.getAsBoolean() && Transactions.tryAdvisoryLock(tx, lock);
    }

    /**
     * Clears the mark of the streams of these organizations (of all with {@code null}), in a transaction of its own
     * on this connection, after the other side of the lock: the clearing statement sees any mark set before.
     */
    static void clear(Connection c, long lock, String[] organizations) throws SQLException {
        Transactions.inTransaction(c, tx -> {
            try (PreparedStatement ps = tx.prepareStatement("SELECT pg_advisory_xact_lock_shared(?)")) {
                ps.setLong(1, lock);
                ps.execute();
            }
            if (organizations == null) {
                try (PreparedStatement ps = tx.prepareStatement(
                        "UPDATE log_stream SET caught_up = false WHERE caught_up")) {
                    ps.executeUpdate();
                }
            } else {
                // only rows that change: another instance's listener may have cleared them already
                try (PreparedStatement ps = tx.prepareStatement(
                        "UPDATE log_stream SET caught_up = false WHERE caught_up AND organization_id = ANY (?)")) {
                    ps.setArray(1, tx.createArrayOf("text", organizations));
                    ps.executeUpdate();
                }
            }
            return null;
        });
    }
}
