package dev.auditstream.exports;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.f4b6a3.ulid.UlidCreator;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.apache.camel.Exchange;

import dev.auditstream.api.ApiException;
import dev.auditstream.api.Json;
import dev.auditstream.api.Timestamps;
import dev.auditstream.api.Validation;
import dev.auditstream.crypto.SignedLinks;
import dev.auditstream.organizations.Organizations;

/**
 * Audit log exports as WorkOS defines them: an export is created {@code pending}, a background job writes
 * {@code audit_logs_export.csv} row by row into database chunks (constant memory, any instance can serve it, a
 * restart picks a pending export up again), then it is {@code ready} with a signed, expiring download URL.
 */
public final class Exports {

    static final String[] COLUMNS = {"id", "action", "occurred_at", "actor_id", "actor_type", "actor_name",
        "targets", "location", "user_agent", "metadata"};
    private static final Set<String> FIELDS = Set.of("organization_id", "range_start", "range_end", "actions",
            "actors", "actor_names", "actor_ids", "targets");
    private static final int CHUNK_BYTES = 1024 * 1024;
    private static final String DOWNLOAD = "download";

    private final DataSource dataSource;
    private final Organizations organizations;
    private final SignedLinks downloadLinks;
    private final String publicUrl;
    private final Duration linkLifetime;

    public Exports(DataSource dataSource, Organizations organizations, SignedLinks downloadLinks, String publicUrl,
                   Duration linkLifetime) {
        this.dataSource = dataSource;
        this.organizations = organizations;
        this.downloadLinks = downloadLinks;
        this.publicUrl = publicUrl;
        this.linkLifetime = linkLifetime;
    }

    /** Route step for POST /audit_logs/exports. */
    public String create(byte[] body) throws SQLException {
        ObjectNode request = Json.object(body);
        Validation errors = new Validation();
        errors.unknownFields(request, FIELDS, "");
        String organizationId = errors.requiredString(request, "organization_id", "organization_id");
        OffsetDateTime start = errors.dateTime(errors.requiredString(request, "range_start", "range_start"), "range_start");
        OffsetDateTime end = errors.dateTime(errors.requiredString(request, "range_end", "range_end"), "range_end");
        if (start != null && end != null && !start.isBefore(end)) {
            errors.add("range_end", "invalid", "range_end must be after range_start.");
        }
        ObjectNode filters = Json.MAPPER.createObjectNode();
        filters.put("range_start", start == null ? null : Timestamps.iso(start.toInstant()));
        filters.put("range_end", end == null ? null : Timestamps.iso(end.toInstant()));
        for (String list : List.of("actions", "actor_names", "actor_ids", "targets")) {
            strings(request, list, filters, errors);
        }
        // "actors" is WorkOS's deprecated name for actor_names
        if (!filters.has("actor_names")) {
            strings(request, "actors", filters, errors);
            if (filters.has("actors")) {
                filters.set("actor_names", filters.remove("actors"));
            }
        }
        errors.throwIfAny();
        organizations.requireExisting(organizationId);

        String id = "audit_log_export_" + UlidCreator.getMonotonicUlid();
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO audit_log_export (id, organization_id, filters, state) VALUES (?, ?, ?::jsonb, 'pending')")) {
            ps.setString(1, id);
            ps.setString(2, organizationId);
            ps.setString(3, Json.write(filters));
            ps.executeUpdate();
        }
        return get(id, organizationId);
    }

    /** Route step for GET /audit_logs/exports/{id}: with a fresh signed URL once the CSV is ready. */
    public String get(String id, String organizationId) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT state, iso_ms(created_at), iso_ms(updated_at) FROM audit_log_export
                WHERE id = ? AND (?::text IS NULL OR organization_id = ?)""")) {
            ps.setString(1, id);
            ps.setString(2, organizationId);
            ps.setString(3, organizationId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw ApiException.notFound("Audit log export", id);
                }
                ObjectNode export = Json.MAPPER.createObjectNode();
                export.put("object", "audit_log_export");
                export.put("id", id);
                export.put("state", rs.getString(1));
                export.put("url", "ready".equals(rs.getString(1)) ? signedUrl(id) : null);
                export.put("created_at", rs.getString(2));
                export.put("updated_at", rs.getString(3));
                return Json.write(export);
            }
        }
    }

    /** Job step: writes the claimed export's CSV into chunks and marks it ready (or error). */
    public void generate(Map<String, Object> claimed) throws SQLException {
        String id = (String) claimed.get("id");
        JsonNode filters = Json.object(((String) claimed.get("filters")).getBytes(StandardCharsets.UTF_8));
        try (Connection write = dataSource.getConnection(); Connection read = dataSource.getConnection()) {
            try (PreparedStatement delete = write.prepareStatement(
                    "DELETE FROM audit_log_export_chunk WHERE export_id = ?")) {
                delete.setString(1, id);
                delete.executeUpdate();
            }
            long events;
            try (ChunkWriter chunks = new ChunkWriter(write, id);
                 CSVPrinter csv = new CSVPrinter(new OutputStreamWriter(chunks, StandardCharsets.UTF_8),
                         CSVFormat.RFC4180.builder().setHeader(COLUMNS).get())) {
                events = writeRows(read, (String) claimed.get("organization_id"), filters, csv);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            finish(write, id, "ready", null, events);
        } catch (SQLException | RuntimeException e) {
            try (Connection c = dataSource.getConnection()) {
                finish(c, id, "error", e.getClass().getSimpleName(), null);
            }
        }
    }

    private static long writeRows(Connection read, String organizationId, JsonNode filters, CSVPrinter csv)
            throws SQLException, IOException {
        StringBuilder sql = new StringBuilder("""
                SELECT event FROM audit_event
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
                    csv.printRecord(event.path("id").asText(), event.path("action").asText(),
                            event.path("occurred_at").asText(), event.at("/actor/id").asText(),
                            event.at("/actor/type").asText(), event.at("/actor/name").asText(""),
                            Json.write(event.path("targets")), event.at("/context/location").asText(),
                            event.at("/context/user_agent").asText(""),
                            event.has("metadata") ? Json.write(event.get("metadata")) : "");
                    count++;
                }
            }
        } finally {
            read.commit();
        }
        return count;
    }

    private static void finish(Connection c, String id, String state, String error, Long events) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE audit_log_export SET state = ?, error = ?, events = ?, lease_owner = NULL, lease_until = NULL,
                    updated_at = now() WHERE id = ?""")) {
            ps.setString(1, state);
            ps.setString(2, error);
            ps.setObject(3, events);
            ps.setString(4, id);
            ps.executeUpdate();
        }
    }

    /** Route step for the signed download: the CSV, streamed chunk by chunk from the database. */
    public InputStream download(Exchange exchange) throws SQLException {
        String id = exchange.getMessage().getHeader("id", String.class);
        SignedLinks.Verified link = downloadLinks.verify(DOWNLOAD, exchange.getMessage().getHeader("token", String.class));
        if (link.verdict() == SignedLinks.Verdict.FORGED || !id.equals(link.claims().path("id").asText())) {
            throw new ApiException(403, "invalid_link", "This download link is not valid.", List.of());
        }
        if (!link.valid()) {
            throw new ApiException(403, "link_expired", "This download link has expired; get the export again "
                    + "for a fresh one.", List.of());
        }
        int chunks;
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM audit_log_export_chunk WHERE export_id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                chunks = rs.getInt(1);
            }
        }
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "text/csv; charset=utf-8");
        exchange.getMessage().setHeader("Content-Disposition", "attachment; filename=\"audit_logs_export.csv\"");
        return new SequenceInputStream(new Enumeration<>() {
            private int next;

            @Override
            public boolean hasMoreElements() {
                return next < chunks;
            }

            @Override
            public InputStream nextElement() {
                return new ByteArrayInputStream(chunk(id, next++));
            }
        });
    }

    private byte[] chunk(String id, int n) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT data FROM audit_log_export_chunk WHERE export_id = ? AND n = ?")) {
            ps.setString(1, id);
            ps.setInt(2, n);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getBytes(1) : new byte[0];
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Could not read export " + id, e);
        }
    }

    private String signedUrl(String id) {
        String token = downloadLinks.sign(DOWNLOAD, Instant.now().plus(linkLifetime),
                Json.MAPPER.createObjectNode().put("id", id));
        return publicUrl + "/exports/" + id + "/audit_logs_export.csv?token=" + token;
    }

    private static void strings(JsonNode request, String member, ObjectNode filters, Validation errors) {
        JsonNode values = Validation.present(request.get(member));
        if (values == null) {
            return;
        }
        if (!values.isArray()) {
            errors.add(member, "invalid_type", member + " must be an array of strings.");
            return;
        }
        for (int i = 0; i < values.size(); i++) {
            if (!values.get(i).isTextual()) {
                errors.add(member + "[" + i + "]", "invalid_type", member + " must be an array of strings.");
            }
        }
        filters.set(member, values);
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
