package dev.auditstream.exports;

import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

import dev.auditstream.alerts.Alerts;
import dev.auditstream.api.Json;
import dev.auditstream.db.Transactions;

/**
 * The background half of exports: writes a claimed export's {@code audit_logs_export.csv} row by row into database
 * chunks (constant memory, any instance can serve it), then marks it {@code ready} until it expires: {@code keepFor}
 * later, or sooner when the oldest event in it leaves its organization's retention, so a copy never outlives the log.
 */
public final class ExportWriter {

    private static final String[] COLUMNS = {"id", "action", "occurred_at", "actor_id", "actor_type", "actor_name",
        "targets", "location", "user_agent", "metadata"};
    private static final int CHUNK_BYTES = 1024 * 1024;
    /** First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection). */
    private static final String FORMULA_STARTS = "=+-@\t\r";

    private final DataSource dataSource;
    private final Duration keepFor;
    private final Alerts alerts;

    public ExportWriter(DataSource dataSource, Duration keepFor, Alerts alerts) {
        this.dataSource = dataSource;
        this.keepFor = keepFor;
        this.alerts = alerts;
    }

    /**
     * Job step: writes the claimed export's CSV into chunks and marks it ready (or error, with the operator's alert
     * in the same transaction).
     */
    public void generate(Map<String, Object> claimed) throws SQLException {
        String id = (String) claimed.get("id");
        JsonNode filters = Json.object(((String) claimed.get("filters")).getBytes(StandardCharsets.UTF_8));
        try (Connection write = dataSource.getConnection(); Connection read = dataSource.getConnection()) {
            try (PreparedStatement delete = write.prepareStatement(
                    "DELETE FROM audit_log_export_chunk WHERE export_id = ?")) {
                delete.setString(1, id);
                delete.executeUpdate();
            }
            Written written;
            try (ChunkWriter chunks = new ChunkWriter(write, id);
                 CSVPrinter csv = new CSVPrinter(new OutputStreamWriter(chunks, StandardCharsets.UTF_8),
                         CSVFormat.RFC4180.builder().setHeader(COLUMNS).get())) {
                written = writeRows(read, (String) claimed.get("organization_id"), filters, csv);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            finish(write, id, "ready", null, written);
        } catch (SQLException | RuntimeException e) {
            try (Connection c = dataSource.getConnection()) {
                Transactions.inTransaction(c, tx -> {
                    finish(tx, id, "error", e.getClass().getSimpleName(), new Written(null, null));
                    alerts.exportFailed(tx, id, (String) claimed.get("organization_id"), e.getClass().getSimpleName());
                    return null;
                });
            }
        }
    }

    /** How many events the CSV holds, and when the first of them was accepted (null without events). */
    private record Written(Long events, OffsetDateTime oldestAccepted) {
    }

    private static Written writeRows(Connection read, String organizationId, JsonNode filters, CSVPrinter csv)
            throws SQLException, IOException {
        StringBuilder sql = new StringBuilder("""
                SELECT event, accepted_at FROM audit_event
                WHERE organization_id = ? AND occurred_at >= ?::timestamptz AND occurred_at < ?::timestamptz""");
        List<String[]> arrays = new ArrayList<>();
        for (String[] filter : new String[][] {{"actions", " AND action = ANY(?)"},
            {"actor_names", " AND actor_name = ANY(?)"}, {"actor_ids", " AND actor_id = ANY(?)"},
            {"targets", " AND target_types && ?"}}) {
            JsonNode values = filters.path(filter[0]);
            if (values.isArray() && !values.isEmpty()) {
                sql.append(filter[1]);
                List<String> list = new ArrayList<>();
                values.forEach(v -> list.add(v.asText()));
                arrays.add(list.toArray(String[]::new));
            }
        }
        sql.append(" ORDER BY occurred_at, id");
        // a cursor (fetch size inside a transaction) keeps memory flat however many events there are
        read.setAutoCommit(false);
        long count = 0;
        OffsetDateTime oldest = null;
        try (PreparedStatement ps = read.prepareStatement(sql.toString())) {
            ps.setFetchSize(1000);
            ps.setString(1, organizationId);
            ps.setString(2, filters.path("range_start").asText());
            ps.setString(3, filters.path("range_end").asText());
            for (int i = 0; i < arrays.size(); i++) {
                ps.setArray(4 + i, read.createArrayOf("text", arrays.get(i)));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    JsonNode event = Json.MAPPER.readTree(rs.getString(1));
                    csv.printRecord(Stream.of(event.path("id").asText(), event.path("action").asText(),
                            event.path("occurred_at").asText(), event.at("/actor/id").asText(),
                            event.at("/actor/type").asText(), event.at("/actor/name").asText(""),
                            Json.write(event.path("targets")), event.at("/context/location").asText(),
                            event.at("/context/user_agent").asText(""),
                            event.has("metadata") ? Json.write(event.get("metadata")) : "").map(ExportWriter::cell));
                    OffsetDateTime accepted = rs.getObject(2, OffsetDateTime.class);
                    oldest = oldest == null || accepted.isBefore(oldest) ? accepted : oldest;
                    count++;
                }
            }
        } finally {
            read.commit();
        }
        return new Written(count, oldest);
    }

    /** A cell as written: one a spreadsheet would run as a formula gets a leading single quote, the rest as it is. */
    static String cell(String value) {
        return !value.isEmpty() && FORMULA_STARTS.indexOf(value.charAt(0)) >= 0 ? "'" + value : value;
    }

    private void finish(Connection c, String id, String state, String error, Written written) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE audit_log_export x SET state = ?, error = ?, events = ?, lease_owner = NULL, lease_until = NULL,
                    updated_at = now(),
                    expires_at = least(now() + make_interval(secs => ?), coalesce(?::timestamptz, now())
                                       + make_interval(days => o.retention_period_in_days))
                FROM organization o WHERE x.id = ? AND o.id = x.organization_id""")) {
            ps.setString(1, state);
            ps.setString(2, error);
            ps.setObject(3, written.events());
            ps.setDouble(4, keepFor.toMillis() / 1000.0);
            ps.setObject(5, written.oldestAccepted());
            ps.setString(6, id);
            ps.executeUpdate();
        }
    }

    /** Bytes in, database rows of up to 1 MB out. */
    private static final class ChunkWriter extends OutputStream {
        private final Connection connection;
        private final String exportId;
        private final byte[] buffer = new byte[CHUNK_BYTES];
        private int size;
        private int n;

        ChunkWriter(Connection connection, String exportId) {
            this.connection = connection;
            this.exportId = exportId;
        }

        @Override
        public void write(int b) throws IOException {
            if (size == buffer.length) {
                flushChunk();
            }
            buffer[size++] = (byte) b;
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            while (length > 0) {
                if (size == buffer.length) {
                    flushChunk();
                }
                int take = Math.min(length, buffer.length - size);
                System.arraycopy(bytes, offset, buffer, size, take);
                size += take;
                offset += take;
                length -= take;
            }
        }

        @Override
        public void close() throws IOException {
            if (size > 0) {
                flushChunk();
            }
        }

        private void flushChunk() throws IOException {
            try (PreparedStatement ps = connection.prepareStatement(
                    "INSERT INTO audit_log_export_chunk (export_id, n, data) VALUES (?, ?, ?)")) {
                ps.setString(1, exportId);
                ps.setInt(2, n++);
                ps.setBytes(3, Arrays.copyOf(buffer, size));
                ps.executeUpdate();
            } catch (SQLException e) {
                throw new IOException("Could not store a chunk of export " + exportId, e);
            }
            size = 0;
        }
    }
}
