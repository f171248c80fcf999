package dev.auditstream.delivery;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rows of successful deliveries to healthy streams, written in groups by the flush-delivery-history job rather than
 * one transaction (and one disk flush) per batch. They are history, not state: a crash may lose the last few. A
 * flush that fails keeps its rows for the next one (up to a bound); rows of streams deleted meanwhile are skipped.
 */
public final class DeliveryHistory {

    private static final Logger LOG = LoggerFactory.getLogger(DeliveryHistory.class);
    /** While the database cannot take them, so many rows wait at most; older ones are dropped first. */
    private static final int MAX_PENDING = 100_000;

    private record Delivered(String streamId, String organizationId, int events, Integer httpStatus, long durationMs,
                             Instant at) {
    }

    private final DataSource dataSource;
    private final ConcurrentLinkedQueue<Delivered> pending = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();

    public DeliveryHistory(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    public void delivered(String streamId, String organizationId, int events, Integer httpStatus, long durationMs) {
        add(new Delivered(streamId, organizationId, events, httpStatus, durationMs, Instant.now()));
    }

    private void add(Delivered row) {
        pending.add(row);
        if (size.incrementAndGet() > MAX_PENDING && pending.poll() != null) {
            size.decrementAndGet();
        }
    }

    /** Route step of the flush job. */
    public void flush() throws SQLException {
        List<Delivered> rows = new ArrayList<>();
        for (Delivered row; (row = pending.poll()) != null; ) {
            size.decrementAndGet();
            rows.add(row);
        }
        if (rows.isEmpty()) {
            return;
        }
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false); // all rows or none, so none is written twice
            insert(c, rows);
            c.commit();
        } catch (SQLException | RuntimeException e) {
            LOG.warn("Could not write {} delivery history rows; kept for the next flush: {}", rows.size(),
                    e.getMessage());
            rows.forEach(this::add);
            throw e;
        }
    }

    private static void insert(Connection c, List<Delivered> rows) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                     INSERT INTO log_stream_delivery (stream_id, organization_id, events, outcome, http_status,
                                                      duration_ms, at)
                     SELECT ?, ?, ?, 'delivered', ?, ?, ? WHERE EXISTS (SELECT 1 FROM log_stream WHERE id = ?)""")) {
            for (Delivered row : rows) {
                ps.setString(1, row.streamId());
                ps.setString(2, row.organizationId());
                ps.setInt(3, row.events());
                ps.setObject(4, row.httpStatus());
                ps.setLong(5, row.durationMs());
                ps.setTimestamp(6, Timestamp.from(row.at()));
                ps.setString(7, row.streamId());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }
}
