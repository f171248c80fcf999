package dev.auditstream.schemas;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaId;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import com.networknt.schema.resource.AllowSchemaLoader;

import dev.auditstream.api.ApiException;
import dev.auditstream.api.FieldError;
import dev.auditstream.api.Json;
import dev.auditstream.api.Validation;
import dev.auditstream.events.IncomingEvent;

/**
 * Per-action schemas, WorkOS style: a version lists the target types an event of that action may name, and JSON
 * Schemas for the actor's, each target's and the event's metadata. Events name a version or get the latest.
 * A schema is one self-contained document: nothing it says is ever fetched from a URI.
 */
public final class ActionSchemas {

    private static final Set<String> SCHEMA_FIELDS = Set.of("targets", "actor", "metadata");
    private static final Set<String> REFERENCES = Set.of("$ref", "$dynamicRef", "$recursiveRef");
    private static final Set<String> DIALECTS = Set.of("https://json-schema.org/draft/2020-12/schema",
            "https://json-schema.org/draft/2020-12/schema#", "http://json-schema.org/draft/2020-12/schema",
            "http://json-schema.org/draft/2020-12/schema#");
    /** Versions kept compiled, and actions whose version list is kept; both far above what an installation uses. */
    private static final int MAX_COMPILED = 1_000;
    private static final int MAX_ACTIONS = 10_000;
    /**
     * Meta-schemas are the library's own classpath copies (it maps json-schema.org to them); any other URI a
     * document would load is refused, so no validation ever reaches the network or the file system.
     */
    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
            builder -> builder.schemaLoaders(loaders -> loaders.add(
                    new AllowSchemaLoader(iri -> iri.toString().startsWith("classpath:")))));
    private static final SchemaValidatorsConfig CONFIG = SchemaValidatorsConfig.builder()
            .pathType(PathType.JSON_POINTER)
            .regularExpressionFactory(BoundedRegex.INSTANCE)
            .build();
    private static final JsonSchema META_SCHEMA = FACTORY.getSchema(SchemaLocation.of(SchemaId.V202012), CONFIG);

    private record Version(String action, int number) {
    }

    private record Compiled(JsonSchema actorMetadata, Map<String, JsonSchema> targetMetadata, JsonSchema metadata) {
    }

    private final DataSource dataSource;
    /** An action's version numbers, ascending (none: no schema); re-read after {@code cacheFor}. */
    private final Cache<String, List<Integer>> versions;
    /** A version never changes once created, so its compiled schemas are kept until evicted by size. */
    private final Cache<Version, Compiled> compiled = Caffeine.newBuilder().maximumSize(MAX_COMPILED).build();

    public ActionSchemas(DataSource dataSource, Duration cacheFor) {
        this.dataSource = dataSource;
        this.versions = Caffeine.newBuilder().maximumSize(MAX_ACTIONS).expireAfterWrite(cacheFor).build();
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
                versions.invalidate(action);
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
        List<Integer> numbers = versions(event.action());
        Integer latest = numbers.isEmpty() ? null : numbers.get(numbers.size() - 1);
        Integer version = event.version() != null ? event.version() : latest;
        if (latest == null && (version == null || version == 1)) {
            return;
        }
        if (!numbers.contains(version) && event.version() != null) {
            // a version created on another instance since this one last read the action's versions
            versions.invalidate(event.action());
            numbers = versions(event.action());
        }
        if (!numbers.contains(version)) {
            String existing = numbers.isEmpty() ? "it has no schema, so its only version is 1"
                    : "its versions are " + numbers.stream().map(String::valueOf).collect(Collectors.joining(", "));
            throw ApiException.invalid(List.of(new FieldError("event.version", "unknown_version",
                    "Action '" + event.action() + "' has no version " + version + "; " + existing + ".", "/version")));
        }
        Compiled schema = compiled(new Version(event.action(), version));
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

    private List<Integer> versions(String action) throws SQLException {
        List<Integer> cached = versions.getIfPresent(action);
        if (cached != null) {
            return cached;
        }
        List<Integer> numbers = new ArrayList<>();
        try (Connection connection = dataSource.getConnection();
             PreparedStatement ps = connection.prepareStatement(
                     "SELECT version FROM audit_action_schema WHERE action = ? ORDER BY version")) {
            ps.setString(1, action);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    numbers.add(rs.getInt(1));
                }
            }
        }
        List<Integer> loaded = List.copyOf(numbers);
        versions.put(action, loaded);
        return loaded;
    }

    private Compiled compiled(Version version) throws SQLException {
        Compiled cached = compiled.getIfPresent(version);
        if (cached != null) {
            return cached;
        }
        try (Connection connection = dataSource.getConnection();
             PreparedStatement ps = connection.prepareStatement(
                     "SELECT definition::text FROM audit_action_schema WHERE action = ? AND version = ?")) {
            ps.setString(1, version.action());
            ps.setInt(2, version.number());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Compiled loaded = compile(Json.object(rs.getBytes(1)));
                compiled.put(version, loaded);
                return loaded;
            } catch (RuntimeException e) {
                // a version stored before today's checks, e.g. referring to a document outside itself
                throw ApiException.invalid(List.of(new FieldError("event.version", "invalid_schema", "Version "
                        + version.number() + " of '" + version.action() + "' cannot be used: " + e.getMessage(),
                        "/version")));
            }
        }
    }

    private static Compiled compile(JsonNode definition) {
        Map<String, JsonSchema> targets = new HashMap<>();
        for (JsonNode target : definition.path("targets")) {
            targets.put(target.get("type").asText(), schema(target.get("metadata")));
        }
        return new Compiled(schema(definition.path("actor").get("metadata")), targets, schema(definition.get("metadata")));
    }

    /** A metadata JSON Schema, compiled with its references resolved now rather than on the first event. */
    private static JsonSchema schema(JsonNode definition) {
        if (definition == null) {
            return null;
        }
        JsonSchema schema = FACTORY.getSchema(definition, CONFIG);
        schema.initializeValidators();
        return schema;
    }

    /** The posted schema, checked: targets with distinct types, and metadata parts that are JSON Schemas. */
    private static ObjectNode definition(String action, byte[] body) {
        ObjectNode request = Json.object(body);
        Validation errors = new Validation();
        if (action == null || action.isBlank() || action.length() > 200) {
            errors.add("action", "invalid", "The action name must be 1-200 characters.");
        } else {
            errors.storable(action, "action");
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
        try {
            compile(definition);
        } catch (RuntimeException e) {
            // what the meta-schema cannot see, such as a reference to a part of the document that is not there
            throw ApiException.invalid(List.of(FieldError.of("schema", "invalid_schema",
                    "The schema could not be compiled: " + e.getMessage())));
        }
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
        selfContained(schema, field, errors);
    }

    /**
     * Every member of a schema, at any depth: storable strings (the definition is kept as jsonb), references only
     * within the document ({@code #...}), no other dialect than 2020-12, no {@code $id} (which would rebase
     * references on a URI), and patterns java.util.regex compiles.
     */
    private static void selfContained(JsonNode node, String field, Validation errors) {
        if (node.isTextual()) {
            errors.storable(node.asText(), field);
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                selfContained(node.get(i), field + "[" + i + "]", errors);
            }
        } else if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> member = it.next();
                String name = member.getKey();
                JsonNode value = member.getValue();
                String memberField = field + "." + name;
                if (!errors.storable(name, memberField)) {
                    continue;
                }
                if (REFERENCES.contains(name) && !value.asText().startsWith("#")) {
                    errors.add(memberField, "remote_reference", name + " may only point inside the schema (\"#/...\"); "
                            + "nothing is loaded from a URI.");
                } else if ("$schema".equals(name) && !DIALECTS.contains(value.asText())) {
                    errors.add(memberField, "unsupported_dialect",
                            "$schema may only be https://json-schema.org/draft/2020-12/schema.");
                } else if ("$id".equals(name)) {
                    errors.add(memberField, "unsupported_keyword",
                            "$id is not supported: a metadata schema is one document, referring only within itself.");
                } else if ("pattern".equals(name) && value.isTextual()) {
                    regex(value.asText(), memberField, errors);
                } else if ("patternProperties".equals(name) && value.isObject()) {
                    value.fieldNames().forEachRemaining(regex -> regex(regex, memberField + "." + regex, errors));
                }
                selfContained(value, memberField, errors);
            }
        }
    }

    private static void regex(String regex, String field, Validation errors) {
        try {
            Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            errors.add(field, "invalid_pattern", "Not a regular expression: " + e.getDescription() + ".");
        }
    }
}
