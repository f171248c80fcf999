package dev.auditstream.organizations;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.f4b6a3.ulid.UlidCreator;

import dev.auditstream.api.ApiException;
import dev.auditstream.api.FieldError;
import dev.auditstream.api.Json;
import dev.auditstream.api.Timestamps;
import dev.auditstream.api.Validation;
import dev.auditstream.events.Actor;
import dev.auditstream.events.OwnEvents;
import dev.auditstream.events.OwnEvents.Target;

/**
 * Organization requests: validation of what is created, retention changes, and the existence check ingestion makes
 * per event.
 */
public final class Organizations {

    private static final Set<String> CREATE_FIELDS =
            Set.of("name", "external_id", "metadata", "domain_data", "domains", "allow_profiles_outside_organization");
    private static final Set<String> DOMAIN_STATES = Set.of("pending", "verified");
    private static final int MAX_METADATA_KEYS = 50;

    private final DataSource dataSource;
    // Organizations are never deleted, so a positive answer can be kept for the life of the process.
    private final Set<String> known = ConcurrentHashMap.newKeySet();
    private final OwnEvents ownEvents;

    public Organizations(DataSource dataSource, OwnEvents ownEvents) {
        this.ownEvents = ownEvents;
        this.dataSource = dataSource;
    }

    /** Route step: validates a create request and returns the row to insert, as camel-sql named parameters. */
    public Map<String, Object> newOrganization(byte[] body) {
        ObjectNode request = Json.object(body);
        Validation errors = new Validation();
        errors.unknownFields(request, CREATE_FIELDS, "");
        String name = errors.requiredString(request, "name", "name", Validation.Limit.NAME);
        String externalId = errors.optionalString(request, "external_id", "external_id");
        ObjectNode metadata = stringMap(request.get("metadata"), errors);
        String id = "org_" + UlidCreator.getMonotonicUlid();
        ArrayNode domains = domains(request, id, errors);
        errors.throwIfAny();

        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", id);
        row.put("name", name);
        row.put("external_id", externalId);
        row.put("metadata", Json.write(metadata));
        row.put("domains", Json.write(domains));
        return row;
    }

    /**
     * Route step for PUT /organizations/{id}/audit_logs_retention: 30 or 365 days. A request naming organization_id
     * reaches only that organization. A new period is recorded as {@code audit_logs.retention_changed} with it.
     */
    public String setRetention(String id, String organizationId, byte[] body, Actor actor) throws SQLException {
        int days = retentionPeriod(body);
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            int previousDays;
            String name;
            String answer;
            // the row locked as it is read, so the period it had is the one this change replaces
            try (PreparedStatement ps = c.prepareStatement("""
                    UPDATE organization o SET retention_period_in_days = ?, updated_at = now()
                    FROM (SELECT id, retention_period_in_days FROM organization
                          WHERE id = ? AND (?::text IS NULL OR id = ?) FOR UPDATE) previous
                    WHERE o.id = previous.id
                    RETURNING previous.retention_period_in_days, o.name,
                        json_build_object('retention_period_in_days', o.retention_period_in_days)::text""")) {
                ps.setInt(1, days);
                ps.setString(2, id);
                ps.setString(3, organizationId);
                ps.setString(4, organizationId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw ApiException.notFound("Organization", id);
                    }
                    previousDays = rs.getInt(1);
                    name = rs.getString(2);
                    answer = rs.getString(3);
                }
            }
            if (previousDays != days) {
                ownEvents.record(c, id, "audit_logs.retention_changed", actor, Target.organization(id, name),
                        Map.of("retention_days_from", String.valueOf(previousDays),
                                "retention_days_to", String.valueOf(days)));
            }
            c.commit();
            return answer;
        }
    }

    /** The {@code retention_period_in_days} of a retention update, which must be 30 or 365. */
    private static int retentionPeriod(byte[] body) {
        JsonNode days = Validation.present(Json.object(body).get("retention_period_in_days"));
        if (days == null || !days.isIntegralNumber() || (days.intValue() != 30 && days.intValue() != 365)) {
            throw ApiException.invalid(List.of(FieldError.of("retention_period_in_days", "invalid",
                    "retention_period_in_days must be 30 or 365.")));
        }
        return days.intValue();
    }

    /** Route step: 404 unless the organization exists. */
    public void requireExisting(String organizationId) throws SQLException {
        if (known.contains(organizationId)) {
            return;
        }
        try (Connection connection = dataSource.getConnection();
             PreparedStatement ps = connection.prepareStatement("SELECT 1 FROM organization WHERE id = ?")) {
            ps.setString(1, organizationId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw ApiException.notFound("Organization", organizationId);
                }
            }
        }
        known.add(organizationId);
    }

    /** WorkOS organization metadata: string values only. */
    private static ObjectNode stringMap(JsonNode node, Validation errors) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        node = Validation.present(node);
        if (node == null) {
            return out;
        }
        if (!node.isObject()) {
            errors.add("metadata", "invalid_type", "metadata must be an object of strings.");
            return out;
        }
        if (node.size() > MAX_METADATA_KEYS) {
            errors.add("metadata", "too_many_keys", "metadata has at most " + MAX_METADATA_KEYS + " keys.");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String value = errors.optionalString(node, entry.getKey(), "metadata." + entry.getKey());
            if (value != null) {
                out.put(entry.getKey(), value);
            }
        }
        return out;
    }

    /** {@code domain_data: [{domain, state}]}, or the older {@code domains: ["example.com"]}. */
    private static ArrayNode domains(ObjectNode request, String organizationId, Validation errors) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        String now = Timestamps.iso(Instant.now());
        JsonNode data = Validation.present(request.get("domain_data"));
        JsonNode plain = Validation.present(request.get("domains"));
        JsonNode list = data != null ? data : plain;
        String field = data != null ? "domain_data" : "domains";
        if (list == null) {
            return out;
        }
        if (!list.isArray()) {
            errors.add(field, "invalid_type", field + " must be an array.");
            return out;
        }
        for (int i = 0; i < list.size(); i++) {
            JsonNode item = list.get(i);
            String itemField = field + "[" + i + "]";
            String domain;
            String state = "pending";
            if (data != null) {
                if (!item.isObject()) {
                    errors.add(itemField, "invalid_type", itemField + " must be an object.");
                    continue;
                }
                domain = errors.requiredString(item, "domain", itemField + ".domain");
                String requested = errors.optionalString(item, "state", itemField + ".state");
                if (requested != null && !DOMAIN_STATES.contains(requested)) {
                    errors.add(itemField + ".state", "invalid", "state must be 'pending' or 'verified'.");
                } else if (requested != null) {
                    state = requested;
                }
            } else {
                domain = item.isTextual() ? item.asText() : null;
                if (domain == null) {
                    errors.add(itemField, "invalid_type", itemField + " must be a string.");
                }
            }
            if (domain != null) {
                out.addObject()
                        .put("object", "organization_domain")
                        .put("id", "org_domain_" + UlidCreator.getMonotonicUlid())
                        .put("organization_id", organizationId)
                        .put("domain", domain)
                        .put("state", state)
                        .put("verification_strategy", "manual")
                        .put("created_at", now)
                        .put("updated_at", now);
            }
        }
        return out;
    }
}
