package dev.auditstream.streams;

import dev.auditstream.destinations.Batch;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Job step of a key rotation: seals every stream's secrets again with the current key, in batches, each in a
 * transaction holding an advisory lock (one instance at a time) and the rows it changes. Values already sealed with
 * the current key are left alone, so runs repeat harmlessly. Those still under an older key (the previous master key,
 * or the format from before keys had ids) are counted for the log and the {@code auditstream_secrets_awaiting_reseal}
 * gauge: once that is 0, no stored secret needs the previous key any more.
 */
public final class SecretResealing {

    /** What a run did: values sealed again, values no configured key opens, values still under an older key. */
    public record Progress(int resealed, List<String> unreadableStreams, long left) {
    }

    /** Rows whose sealed value does not start with the current key's header. */
    private static final String OUTDATED = "secrets IS NOT NULL AND substring(secrets from 1 for ?) <> ?";

    private final DataSource dataSource;
    private final StreamSecrets secrets;
    private final byte[] currentHeader;
    private final int batch;
    private final long lock;
    private volatile Long left;

    public SecretResealing(DataSource dataSource, StreamSecrets secrets, byte[] currentHeader, int batch, long lock,
                           MeterRegistry metrics) {
        this.dataSource = dataSource;
        this.secrets = secrets;
        this.currentHeader = currentHeader;
        this.batch = batch;
        this.lock = lock;
        Gauge.builder("auditstream.secrets.awaiting.reseal", () -> left == null ? Double.NaN : left)
                .description("stream secrets still sealed with a key other than the current one")
                .register(metrics);
    }

    /** Job step: one pass over every stream, then the count of what is left. */
    public Progress reseal() throws SQLException {
        int resealed = 0;
        List<String> unreadable = new ArrayList<>();
        Batch done = new Batch(0, 0, "");
        do {
            done = resealBatch(done.last(), unreadable);
            resealed += done.resealed();
        } while (done.seen() == batch);
        left = count();
        return new Progress(resealed, unreadable, left);
    }

    private record Batch(int seen, int resealed, String last) {
    }

    /** Re-seals the next batch of outdated values after stream id {@code after}; notes those no key opens. */
    private Batch resealBatch(String after, List<String> unreadable) throws SQLException {
        int seen = 0;
        int resealed = 0;
        String last = after;
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement locked = c.prepareStatement("SELECT pg_try_advisory_xact_lock(?)")) {
                locked.setLong(1, lock);
                try (ResultSet rs = locked.executeQuery()) {
                    if (!rs.next() || !rs.getBoolean(1)) {
                        // another instance is re-sealing
                        c.rollback();
                        return new Batch(0, 0, after);
                    }
                }
            }
            try (PreparedStatement select = c.prepareStatement("SELECT id, organization_id, secrets FROM log_stream "
                    + "WHERE " + OUTDATED + " AND id > ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED");
                 PreparedStatement update = c.prepareStatement("UPDATE log_stream SET secrets = ? WHERE id = ?")) {
                select.setInt(1, currentHeader.length);
                select.setBytes(2, currentHeader);
                select.setString(3, after);
                select.setInt(4, batch);
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        seen++;
                        last = rs.getString(1);
                        try {
                            // the clear value is the same, so the config version (and delivery's cache) stays
                            update.setBytes(1, secrets.reseal(rs.getBytes(3), last, rs.getString(2)));
                        } catch (IllegalStateException noKeyOpensIt) {
                            unreadable.add(last);
                            continue;
                        }
                        update.setString(2, last);
                        update.addBatch();
                        resealed++;
                    }
                }
                update.executeBatch();
            }
            c.commit();
        }
        return new Batch(seen, resealed, last);
    }

    private long count() throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM log_stream WHERE " + OUTDATED)) {
            ps.setInt(1, currentHeader.length);
            ps.setBytes(2, currentHeader);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
