package dev.auditstream.streams;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

import javax.sql.DataSource;

/**
 * Rows of successful deliveries to healthy streams, written in groups by the flush-delivery-history job rather than
 * one transaction (and one disk flush) per batch. They are history, not state: a crash may lose the last few.
 */
public final class DeliveryHistory {

    private record Delivered(String streamId, String organizationId, int events, Integer httpStatus, long durationMs) {
    }

    private final DataSource dataSource;
    private final ConcurrentLinkedQueue<Delivered> pending = new ConcurrentLinkedQueue<>();

    public DeliveryHistory(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    public void delivered(String streamId, String organizationId, int events, Integer httpStatus, long durationMs) {
        pending.add(new Delivered(streamId, organizationId, events, httpStatus, durationMs));
    }

    /** Route step of the flush job. */
    public void flush() throws SQLException {
        List<Delivered> rows = new ArrayList<>();
        for (Delivered row; (row = pending.poll()) != null; ) {
            rows.add(row);
        }
        if (rows.isEmpty()) {
            return;
        }
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("""
                     INSERT INTO log_stream_delivery (stream_id, organization_id, events, outcome, http_status, duration_ms)
                     VALUES (?, ?, ?, 'delivered', ?, ?)""")) {
            for (Delivered row : rows) {
                ps.setString(1, row.streamId());
                ps.setString(2, row.organizationId());
                ps.setInt(3, row.events());
                ps.setObject(4, row.httpStatus());
                ps.setLong(5, row.durationMs());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }
}
