package dev.auditstream.exports;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.f4b6a3.ulid.UlidCreator;
import org.apache.camel.Exchange;

import dev.auditstream.api.ApiException;
import dev.auditstream.api.Json;
import dev.auditstream.api.Timestamps;
import dev.auditstream.api.Validation;
import dev.auditstream.crypto.SignedLinks;
import dev.auditstream.events.Actor;
import dev.auditstream.events.OwnEvents;
import dev.auditstream.events.OwnEvents.Target;
import dev.auditstream.organizations.Organizations;

/**
 * Audit log exports as WorkOS defines them: an export is created {@code pending}, {@link ExportWriter} writes its
 * {@code audit_logs_export.csv} in the background (a restart picks a pending export up again), then it is
 * {@code ready} with a signed download URL that works for minutes, until the export itself expires and is purged.
 */
public final class Exports {

    private static final Set<String> FIELDS = Set.of("organization_id", "range_start", "range_end", "actions",
            "actors", "actor_names", "actor_ids", "targets");
    private static final int MAX_FILTER_VALUES = 100;
    private static final String DOWNLOAD = "download";

    private final DataSource dataSource;
    private final Organizations organizations;
    private final SignedLinks downloadLinks;
    private final String publicUrl;
    private final Duration linkLifetime;
    private final OwnEvents ownEvents;

    public Exports(DataSource dataSource, Organizations organizations, SignedLinks downloadLinks, String publicUrl,
                   Duration linkLifetime, OwnEvents ownEvents) {
        this.ownEvents = ownEvents;
        this.dataSource = dataSource;
        this.organizations = organizations;
        this.downloadLinks = downloadLinks;
        this.publicUrl = publicUrl;
        this.linkLifetime = linkLifetime;
    }

    /** Route step for POST /audit_logs/exports, recorded as {@code audit_logs.export_created} with it. */
    public String create(byte[] body, Actor actor) throws SQLException {
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
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO audit_log_export (id, organization_id, filters, state)
                    VALUES (?, ?, ?::jsonb, 'pending')""")) {
                ps.setString(1, id);
                ps.setString(2, organizationId);
                ps.setString(3, Json.write(filters));
                ps.executeUpdate();
            }
            ownEvents.record(c, organizationId, "audit_logs.export_created", actor, Target.export(id),
                    Map.of("range_start", filters.get("range_start").asText(),
                            "range_end", filters.get("range_end").asText()));
            c.commit();
        }
        return get(id, organizationId);
    }

    /** Route step for GET /audit_logs/exports/{id}: with a fresh signed URL once ready; not found once expired. */
    public String get(String id, String organizationId) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT state, iso_ms(created_at), iso_ms(updated_at) FROM audit_log_export
                WHERE id = ? AND (?::text IS NULL OR organization_id = ?)
                  AND (expires_at IS NULL OR expires_at > now())""")) {
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

    /** Route step for the signed download: the CSV, streamed chunk by chunk from the database. */
    public InputStream download(Exchange exchange) throws SQLException {
        String id = exchange.getMessage().getHeader("id", String.class);
        String token = exchange.getMessage().getHeader("token", String.class);
        SignedLinks.Verified link = downloadLinks.verify(DOWNLOAD, token);
        if (link.verdict() == SignedLinks.Verdict.FORGED || !id.equals(link.claims().path("id").asText())) {
            throw new ApiException(403, "invalid_link", "This download link is not valid.", List.of());
        }
        if (!link.valid()) {
            throw new ApiException(403, "link_expired", "This download link has expired; get the export again "
                    + "for a fresh one.", List.of());
        }
        int chunks;
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT (SELECT count(*) FROM audit_log_export_chunk WHERE export_id = x.id) FROM audit_log_export x
                WHERE x.id = ? AND x.state = 'ready' AND x.expires_at > now()""")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw ApiException.notFound("Audit log export", id);
                }
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
        if (values.size() > MAX_FILTER_VALUES) {
            errors.add(member, "too_many", member + " takes at most " + MAX_FILTER_VALUES + " values.");
            return;
        }
        for (int i = 0; i < values.size(); i++) {
            if (!values.get(i).isTextual()) {
                errors.add(member + "[" + i + "]", "invalid_type", member + " must be an array of strings.");
            }
        }
        filters.set(member, values);
    }
}
