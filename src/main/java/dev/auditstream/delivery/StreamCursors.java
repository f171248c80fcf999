package dev.auditstream.delivery;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;

import javax.sql.DataSource;

import org.apache.camel.Exchange;

import dev.auditstream.destinations.Batch;

/**
 * Moves a claimed stream's cursor once its destination accepted a batch (or the batch held only events its filters
 * leave out), in one statement fenced by the claim's token, which also adds the events sent to the stream's usage
 * for the month: a drain that lost its claim writes nothing, and what it sent is counted once. After a batch with
 * nothing read behind it, a healthy stream's same statement gives the lease back as {@link DeliveryWorkers} would
 * when the drain ends: a busy stream's visit costs one write, not two.
 */
public final class StreamCursors {

    private static final String ADVANCE = """
            WITH advanced AS (UPDATE log_stream SET cursor_xid = CAST(? AS xid8), cursor_seq = ?,
                lease_owner = CASE WHEN ? THEN NULL ELSE lease_owner END,
                lease_until = CASE WHEN ? THEN NULL ELSE now() + ? * interval '1 millisecond' END,
                next_attempt_at = CASE WHEN ? THEN greatest(next_attempt_at, now()) ELSE next_attempt_at END,
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
        // the drain's last batch unless more was read behind it, or the request carried only part of it; a stream
        // whose success also changes its state (DeliveryOutcomes, fenced by this claim) keeps its lease until then
        boolean last = !batch.full() && (batch.isEmpty() || sent == batch.events().size())
                && DeliveryOutcomes.healthy(exchange.getVariable("stream", Map.class));
        int moved;
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(ADVANCE)) {
            ps.setString(1, to.xid());
            ps.setLong(2, to.seq());
            ps.setBoolean(3, last);
            ps.setBoolean(4, last);
            ps.setLong(5, leaseMillis);
            ps.setBoolean(6, last);
            ps.setBoolean(7, batch.isEmpty());
            ps.setString(8, claim.streamId());
            ps.setString(9, claim.token());
            ps.setInt(10, sent);
            moved = ps.executeUpdate();
        }
        if (moved == 1 && last) {
            claim.givenBack();
        }
        exchange.setVariable("advancedRows", moved);
        exchange.setVariable("cursorXid", to.xid());
        exchange.setVariable("cursorSeq", to.seq());
        exchange.setVariable("more", moved == 1 && !last);
    }
}
