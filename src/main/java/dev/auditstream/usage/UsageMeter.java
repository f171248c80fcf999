package dev.auditstream.usage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

import javax.sql.DataSource;

import dev.auditstream.db.Transactions;

/**
 * Counts accepted events per organization and month, off the ingest path: like a stream, the meter reads each
 * organization's log after its own cursor, in (xid, seq) order and only below the oldest running transaction (so an
 * insert that commits late is never skipped), and adds what it read to the monthly counts, to the organization's
 * retained events and to its cursor in one transaction. One instance meters at a time (an advisory lock), and the
 * lock is taken before the counting statement's snapshot, so no run reads a cursor another has already moved.
 */
public final class UsageMeter {

    private static final String COUNT_NEXT = """
            WITH counted AS MATERIALIZED (
                SELECT o.id AS organization_id, x.xid, x.seq, x.accepted_at
                FROM organization o
                LEFT JOIN usage_meter m ON m.organization_id = o.id
                CROSS JOIN LATERAL (
                    SELECT e.xid, e.seq, e.accepted_at FROM audit_event e
                    WHERE e.organization_id = o.id
                      AND (e.xid, e.seq) > (coalesce(m.cursor_xid, '0'::xid8), coalesce(m.cursor_seq, 0))
                      AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
                    ORDER BY e.xid, e.seq
                    LIMIT ?) x),
            per_organization AS (
                SELECT organization_id, count(*) AS events FROM counted GROUP BY organization_id),
            months AS (
                INSERT INTO organization_usage (organization_id, month, ingested)
                SELECT organization_id, usage_month(accepted_at), count(*) FROM counted GROUP BY 1, 2
                ON CONFLICT (organization_id, month) DO UPDATE SET ingested = organization_usage.ingested + excluded.ingested),
            cursors AS (
                INSERT INTO usage_meter (organization_id, cursor_xid, cursor_seq, retained)
                SELECT DISTINCT ON (c.organization_id) c.organization_id, c.xid, c.seq, p.events
                FROM counted c JOIN per_organization p USING (organization_id)
                ORDER BY c.organization_id, c.xid DESC, c.seq DESC
                ON CONFLICT (organization_id) DO UPDATE SET cursor_xid = excluded.cursor_xid,
                    cursor_seq = excluded.cursor_seq, retained = usage_meter.retained + excluded.retained)
            SELECT organization_id, events FROM per_organization""";

    private final DataSource dataSource;
    private final int batch;
    private final long lock;
    private final UsageMetrics metrics;

    public UsageMeter(DataSource dataSource, int batch, long lock, UsageMetrics metrics) {
        this.dataSource = dataSource;
        this.batch = batch;
        this.lock = lock;
        this.metrics = metrics;
    }

    /**
     * Route step: counts up to a batch of each organization's next events; true when some organization had a full
     * batch, so more may be waiting. Another instance metering now: nothing counted, false.
     */
    public boolean countNext() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            Map<String, Long> counted = Transactions.inTransaction(c,
                    tx -> Transactions.tryAdvisoryLock(tx, lock) ? count(tx) : Map.of());
            // the counters follow the committed counts only
            counted.forEach(metrics::ingested);
            return counted.values().stream().anyMatch(events -> events >= batch);
        }
    }

    private Map<String, Long> count(Connection c) throws SQLException {
        Map<String, Long> counted = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(COUNT_NEXT)) {
            ps.setInt(1, batch);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    counted.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        return counted;
    }
}
