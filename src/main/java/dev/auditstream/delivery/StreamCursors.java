package dev.auditstream.delivery;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;

import javax.sql.DataSource;

import org.apache.camel.Exchange;

import dev.auditstream.destinations.Batch;

/**
 * Moves a claimed stream's cursor once its destination accepted a batch (or the batch held only events its filters
 * leave out), in one statement fenced by the claim's token, which also adds the events sent to the stream's usage
 * for the month: a drain that lost its claim writes nothing, and what it sent is counted once.
 */
public final class StreamCursors {

    private static final String ADVANCE = """
            WITH advanced AS (UPDATE log_stream SET cursor_xid = CAST(? AS xid8), cursor_seq = ?,
                lease_until = now() + ? * interval '1 millisecond',
                last_synced_at = CASE WHEN ? THEN last_synced_at ELSE now() END
              WHERE id = ? AND lease_token = CAST(? AS uuid) AND state <> 'inactive'
              RETURNING id, organization_id)
            INSERT INTO log_stream_usage (stream_id, month, organization_id, delivered)
            SELECT id, usage_month(now()), organization_id, ? FROM advanced
            ON CONFLICT (stream_id, month) DO UPDATE SET delivered = log_stream_usage.delivered + excluded.delivered""";

    private final DataSource dataSource;
    private final long leaseMillis;

    public StreamCursors(DataSource dataSource, Duration lease) {
        this.dataSource = dataSource;
        this.leaseMillis = lease.toMillis();
    }

    /**
     * Route step after a batch was accepted: the cursor moves past the events the request carried (a destination's
     * size limit may have cut the batch: variable {@code sentCount}), or past everything read when nothing was sent.
     * Sets the drain's variables {@code cursorXid}, {@code cursorSeq}, {@code advancedRows} (1 when the claim still
     * held) and {@code more} (another batch follows, and the claim held).
     */
    public void advance(Exchange exchange) throws SQLException {
        DeliveryWorkers.Claim claim = exchange.getVariable("claim", DeliveryWorkers.Claim.class);
        Batch batch = exchange.getVariable("batch", Batch.class);
        if (claim.lost()) {
            exchange.setVariable("more", false);
            return;
        }
        int sent = batch.isEmpty() ? 0 : exchange.getVariable("sentCount", Integer.class);
        Batch.Position to = batch.isEmpty() ? batch.scanned() : batch.positionAfter(sent);
        int moved;
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(ADVANCE)) {
            ps.setString(1, to.xid());
            ps.setLong(2, to.seq());
            ps.setLong(3, leaseMillis);
            ps.setBoolean(4, batch.isEmpty());
            ps.setString(5, claim.streamId());
            ps.setString(6, claim.token());
            ps.setInt(7, sent);
            moved = ps.executeUpdate();
        }
        exchange.setVariable("advancedRows", moved);
        exchange.setVariable("cursorXid", to.xid());
        exchange.setVariable("cursorSeq", to.seq());
        exchange.setVariable("more", moved == 1 && batch.full());
    }
}
