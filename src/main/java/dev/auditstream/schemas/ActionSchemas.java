package dev.auditstream.schemas;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaId;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

import dev.auditstream.api.ApiException;
import dev.auditstream.api.FieldError;
import dev.auditstream.api.Json;
import dev.auditstream.api.Validation;
import dev.auditstream.events.IncomingEvent;

/**
 * Per-action schemas, WorkOS style: a version lists the target types an event of that action may name, and JSON
 * Schemas for the actor's, each target's and the event's metadata. Events name a version or get the latest.
 */
public final class ActionSchemas {

    private static final Set<String> SCHEMA_FIELDS = Set.of("targets", "actor", "metadata");
    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
    private static final SchemaValidatorsConfig CONFIG =
            SchemaValidatorsConfig.builder().pathType(PathType.JSON_POINTER).build();
    private static final JsonSchema META_SCHEMA = FACTORY.getSchema(SchemaLocation.of(SchemaId.V202012), CONFIG);

    /** The compiled versions of one action, as read at {@code loadedAt}. */
    private record Versions(long loadedAt, Map<Integer, Compiled> byVersion, Integer latest) {
    }

    private record Compiled(JsonSchema actorMetadata, Map<String, JsonSchema> targetMetadata, JsonSchema metadata) {
    }

    private final DataSource dataSource;
    private final long cacheNanos;
    private final Map<String, Versions> cache = new ConcurrentHashMap<>();

    public ActionSchemas(DataSource dataSource, Duration cacheFor) {
        this.dataSource = dataSource;
        this.cacheNanos = cacheFor.toNanos();
    }

    /** Route step: validates a schema definition and stores it as the action's next version. Returns its JSON. */
    public String create(String action, byte[] body) throws SQLException {
        ObjectNode definition = definition(action, body);
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try {
                // The upsert locks the action's row, so concurrent creates number their versions one after another.
                try (PreparedStatement ps = connection.prepareStatement("""
                        INSERT INTO audit_action (name) VALUES (?)
                        ON CONFLICT (name) DO UPDATE SET updated_at = now()""")) {
                    ps.setString(1, action);
                    ps.executeUpdate();
                }
                String json;
                try (PreparedStatement ps = connection.prepareStatement("""
                        WITH s AS (
                            INSERT INTO audit_action_schema (action, version, definition)
                            SELECT ?, coalesce(max(version), 0) + 1, ?::jsonb FROM audit_action_schema WHERE action = ?
                            RETURNING version)
                        SELECT version FROM s""")) {
                    ps.setString(1, action);
                    ps.setString(2, Json.write(definition));
                    ps.setString(3, action);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        json = schemaJson(connection, action, rs.getInt(1));
                    }
                }
                connection.commit();
                cache.remove(action);
                return json;
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        }
    }

    private static String schemaJson(Connection connection, String action, int version) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT json FROM audit_action_schema_json WHERE action = ? AND version = ?")) {
            ps.setString(1, action);
            ps.setInt(2, version);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /**
     * Route step: 422 with every failing path when the event does not fit its action's schema. As with WorkOS, an
     * action without a schema has one implicit version, 1, so {@code version} may be absent or 1; an action with
     * schemas is checked against the version the event names, or the latest.
     */
    public void validate(IncomingEvent event) throws SQLException {
        Versions versions = versions(event.action());
        Integer version = event.version() != null ? event.version() : versions.latest();
        if (versions.latest() == null && (version == null || version == 1)) {
            return;
        }
        Compiled schema = versions.byVersion().get(version);
        if (schema == null) {
            String existing = versions.latest() == null ? "it has no schema, so its only version is 1"
                    : "its versions are " + versions.byVersion().keySet().stream().sorted().map(String::valueOf)
                            .collect(Collectors.joining(", "));
            throw ApiException.invalid(List.of(new FieldError("event.version", "unknown_version",
                    "Action '" + event.action() + "' has no version " + version + "; " + existing + ".", "/version")));
        }
        List<FieldError> errors = new ArrayList<>();
        ObjectNode body = event.event();
        check(schema.actorMetadata(), body.path("actor").path("metadata"), "/actor/metadata", errors);
        JsonNode targets = body.path("targets");
        for (int i = 0; i < targets.size(); i++) {
            String type = targets.get(i).path("type").asText();
            String pointer = "/targets/" + i;
            if (!schema.targetMetadata().containsKey(type)) {
                errors.add(new FieldError(field(pointer + "/type"), "schema_violation",
                        "Target type '" + type + "' is not in schema version " + version + " of '" + event.action()
                                + "'; allowed: " + schema.targetMetadata().keySet() + ".", pointer + "/type"));
            } else {
                check(schema.targetMetadata().get(type), targets.get(i).path("metadata"), pointer + "/metadata", errors);
            }
        }
        check(schema.metadata(), body.path("metadata"), "/metadata", errors);
        if (!errors.isEmpty()) {
            throw new ApiException(422, "invalid_audit_log_event", "Invalid Audit Log event.", errors);
        }
    }

    private static void check(JsonSchema schema, JsonNode value, String pointer, List<FieldError> errors) {
        if (schema == null) {
            return;
        }
        // absent metadata is validated as an empty object, so "required" keys are enforced
        JsonNode instance = value.isMissingNode() ? Json.MAPPER.createObjectNode() : value;
        for (ValidationMessage message : schema.validate(instance)) {
            String path = pointer + message.getInstanceLocation().toString();
            if ("required".equals(message.getType()) && message.getProperty() != null) {
                // name the missing member itself, not the object it is missing from
                path = path + "/" + message.getProperty();
            }
            errors.add(new FieldError(field(path), "schema_violation", message.getMessage(), path));
        }
    }

    /** {@code /targets/0/metadata/cost} → {@code event.targets[0].metadata.cost}. */
    private static String field(String pointer) {
        StringBuilder field = new StringBuilder("event");
        for (String part : pointer.substring(1).split("/")) {
            if (!part.isEmpty() && part.chars().allMatch(Character::isDigit)) {
                field.append('[').append(part).append(']');
            } else if (!part.isEmpty()) {
                field.append('.').append(part.replace("~1", "/").replace("~0", "~"));
            }
        }
        return field.toString();
    }

    private Versions versions(String action) throws SQLException {
        Versions cached = cache.get(action);
        if (cached != null && System.nanoTime() - cached.loadedAt() < cacheNanos) {
            return cached;
        }
        Map<Integer, Compiled> byVersion = new HashMap<>();
        Integer latest = null;
        try (Connection connection = dataSource.getConnection();
             PreparedStatement ps = connection.prepareStatement(
                     "SELECT version, definition::text FROM audit_action_schema WHERE action = ? ORDER BY version")) {
            ps.setString(1, action);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    latest = rs.getInt(1);
                    byVersion.put(latest, compile(Json.object(rs.getBytes(2))));
                }
            }
        }
        Versions loaded = new Versions(System.nanoTime(), byVersion, latest);
        cache.put(action, loaded);
        return loaded;
    }

    private static Compiled compile(JsonNode definition) {
        Map<String, JsonSchema> targets = new HashMap<>();
        for (JsonNode target : definition.path("targets")) {
            JsonNode metadata = target.get("metadata");
            targets.put(target.get("type").asText(), metadata == null ? null : FACTORY.getSchema(metadata, CONFIG));
        }
        JsonNode actor = definition.path("actor").get("metadata");
        JsonNode metadata = definition.get("metadata");
        return new Compiled(
                actor == null ? null : FACTORY.getSchema(actor, CONFIG),
                targets,
                metadata == null ? null : FACTORY.getSchema(metadata, CONFIG));
    }

    /** The posted schema, checked: targets with distinct types, and metadata parts that are JSON Schemas. */
    private static ObjectNode definition(String action, byte[] body) {
        ObjectNode request = Json.object(body);
        Validation errors = new Validation();
        if (action == null || action.isBlank() || action.length() > 200) {
            errors.add("action", "invalid", "The action name must be 1-200 characters.");
        }
        errors.unknownFields(request, SCHEMA_FIELDS, "");
        ObjectNode definition = Json.MAPPER.createObjectNode();
        JsonNode targets = Validation.present(request.get("targets"));
        if (targets == null || !targets.isArray() || targets.isEmpty()) {
            errors.add("targets", "required", "targets must be an array of at least one {type, metadata?}.");
        } else {
            Set<String> types = new HashSet<>();
            for (int i = 0; i < targets.size(); i++) {
                JsonNode target = targets.get(i);
                String field = "targets[" + i + "]";
                if (!target.isObject()) {
                    errors.add(field, "invalid_type", field + " must be an object.");
                    continue;
                }
                errors.unknownFields(target, Set.of("type", "metadata"), field + ".");
                String type = errors.requiredString(target, "type", field + ".type");
                if (type != null && !types.add(type)) {
                    errors.add(field + ".type", "duplicate", "Target type '" + type + "' is listed twice.");
                }
                metaSchema(target.get("metadata"), field + ".metadata", errors);
            }
            definition.set("targets", targets);
        }
        JsonNode actor = Validation.present(request.get("actor"));
        if (actor != null) {
            if (!actor.isObject() || Validation.present(actor.get("metadata")) == null) {
                errors.add("actor", "invalid", "actor must be {\"metadata\": <JSON Schema>}.");
            } else {
                errors.unknownFields(actor, Set.of("metadata"), "actor.");
                metaSchema(actor.get("metadata"), "actor.metadata", errors);
                definition.set("actor", actor);
            }
        }
        JsonNode metadata = Validation.present(request.get("metadata"));
        if (metadata != null) {
            metaSchema(metadata, "metadata", errors);
            definition.set("metadata", metadata);
        }
        errors.throwIfAny();
        return definition;
    }

    private static void metaSchema(JsonNode schema, String field, Validation errors) {
        schema = Validation.present(schema);
        if (schema == null) {
            return;
        }
        if (!schema.isObject()) {
            errors.add(field, "invalid_type", field + " must be a JSON Schema object.");
            return;
        }
        for (ValidationMessage message : META_SCHEMA.validate(schema)) {
            errors.add(field + message.getInstanceLocation().toString().replace('/', '.'), "invalid_schema",
                    message.getMessage());
        }
    }
}
