package dev.auditstream.events;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.f4b6a3.ulid.Ulid;
import com.github.f4b6a3.ulid.UlidCreator;

import dev.auditstream.api.ApiException;
import dev.auditstream.api.Json;
import dev.auditstream.api.Validation;
import dev.auditstream.api.Timestamps;

/**
 * Checks a {@code POST /audit_logs/events} body against the event rules of the API (required fields, types, ISO
 * timestamps, metadata limits) and normalizes it: {@code null} members are dropped, {@code occurred_at} becomes
 * UTC with milliseconds, members come out in the documented order. Every rule that fails is reported at once.
 */
public final class EventValidator {

    static final int MAX_METADATA_KEYS = 50;
    static final int MAX_METADATA_VALUE_LENGTH = 500;
    private static final Pattern METADATA_KEY = Pattern.compile("^[a-zA-Z0-9_-]{1,40}$");
    private static final Set<String> BODY_FIELDS = Set.of("organization_id", "event");
    private static final Set<String> EVENT_FIELDS =
            Set.of("action", "occurred_at", "actor", "targets", "context", "metadata", "version");
    private static final Set<String> ENTITY_FIELDS = Set.of("id", "type", "name", "metadata");
    private static final Set<String> CONTEXT_FIELDS = Set.of("location", "user_agent");
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** Route step: parses and validates the request body, answering 400/422 through {@link ApiException}. */
    public IncomingEvent validate(byte[] body) {
        ObjectNode request = Json.object(body);
        Validation errors = new Validation();
        errors.unknownFields(request, BODY_FIELDS, "");
        String organizationId = errors.requiredString(request, "organization_id", "organization_id");
        JsonNode event = Validation.present(request.get("event"));
        if (event == null) {
            errors.add("event", "required", "event is required.");
            errors.throwIfAny();
        }
        if (!event.isObject()) {
            errors.add("event", "invalid_type", "event must be an object.");
            errors.throwIfAny();
        }
        errors.unknownFields(event, EVENT_FIELDS, "event.");

        ObjectNode normalized = NODES.objectNode();
        String action = errors.requiredString(event, "action", "event.action");
        normalized.put("action", action);
        ArrayNode targets = targets(event, errors);
        normalized.set("targets", targets);
        ObjectNode actor = entity(event.get("actor"), "event.actor", errors);
        normalized.set("actor", actor);
        normalized.set("context", context(event, errors));
        Instant occurredAt = timestamp(event, "occurred_at", "event.occurred_at", errors);
        normalized.put("occurred_at", occurredAt == null ? null : Timestamps.iso(occurredAt));
        ObjectNode metadata = metadata(event.get("metadata"), "event.metadata", errors);
        if (metadata != null) {
            normalized.set("metadata", metadata);
        }
        Integer version = version(event, errors);
        if (version != null) {
            normalized.put("version", version);
        }
        errors.throwIfAny();

        List<String> targetIds = new ArrayList<>(targets.size());
        List<String> targetTypes = new ArrayList<>(targets.size());
        for (JsonNode target : targets) {
            targetIds.add(target.get("id").asText());
            targetTypes.add(target.get("type").asText());
        }
        // the id's time is the accept time: keys and timestamps derived from either agree
        Ulid id = UlidCreator.getMonotonicUlid();
        return new IncomingEvent(
                id.toString(),
                organizationId,
                action,
                occurredAt,
                id.getInstant(),
                actor.get("id").asText(),
                actor.hasNonNull("name") ? actor.get("name").asText() : null,
                targetIds,
                targetTypes,
                version,
                normalized,
                Json.write(normalized));
    }

    private static ArrayNode targets(JsonNode event, Validation errors) {
        ArrayNode normalized = NODES.arrayNode();
        JsonNode targets = Validation.present(event.get("targets"));
        if (targets == null) {
            errors.add("event.targets", "required", "event.targets is required.");
        } else if (!targets.isArray()) {
            errors.add("event.targets", "invalid_type", "event.targets must be an array.");
        } else if (targets.isEmpty()) {
            errors.add("event.targets", "min_items", "event.targets needs at least one target.");
        } else {
            for (int i = 0; i < targets.size(); i++) {
                normalized.add(entity(targets.get(i), "event.targets[" + i + "]", errors));
            }
        }
        return normalized;
    }

    /** An actor or a target: {@code id}, {@code type}, optional {@code name} and {@code metadata}. */
    private static ObjectNode entity(JsonNode node, String field, Validation errors) {
        ObjectNode normalized = NODES.objectNode();
        node = Validation.present(node);
        if (node == null) {
            errors.add(field, "required", field + " is required.");
            return normalized;
        }
        if (!node.isObject()) {
            errors.add(field, "invalid_type", field + " must be an object.");
            return normalized;
        }
        errors.unknownFields(node, ENTITY_FIELDS, field + ".");
        normalized.put("id", errors.requiredString(node, "id", field + ".id"));
        normalized.put("type", errors.requiredString(node, "type", field + ".type"));
        String name = errors.optionalString(node, "name", field + ".name");
        if (name != null) {
            normalized.put("name", name);
        }
        ObjectNode metadata = metadata(node.get("metadata"), field + ".metadata", errors);
        if (metadata != null) {
            normalized.set("metadata", metadata);
        }
        return normalized;
    }

    private static ObjectNode context(JsonNode event, Validation errors) {
        ObjectNode normalized = NODES.objectNode();
        JsonNode context = Validation.present(event.get("context"));
        if (context == null) {
            errors.add("event.context", "required", "event.context is required.");
        } else if (!context.isObject()) {
            errors.add("event.context", "invalid_type", "event.context must be an object.");
        } else {
            errors.unknownFields(context, CONTEXT_FIELDS, "event.context.");
            normalized.put("location", errors.requiredString(context, "location", "event.context.location"));
            String userAgent = errors.optionalString(context, "user_agent", "event.context.user_agent");
            if (userAgent != null) {
                normalized.put("user_agent", userAgent);
            }
        }
        return normalized;
    }

    private static ObjectNode metadata(JsonNode node, String field, Validation errors) {
        node = Validation.present(node);
        if (node == null) {
            return null;
        }
        if (!node.isObject()) {
            errors.add(field, "invalid_type", field + " must be an object.");
            return null;
        }
        if (node.size() > MAX_METADATA_KEYS) {
            errors.add(field, "too_many_keys", field + " has " + node.size() + " keys; at most "
                    + MAX_METADATA_KEYS + " are allowed.");
        }
        ObjectNode normalized = NODES.objectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String key = entry.getKey();
            JsonNode value = entry.getValue();
            String keyField = field + "." + key;
            if (!METADATA_KEY.matcher(key).matches()) {
                errors.add(keyField, "invalid_key",
                        "Metadata keys must be 1-40 characters of letters, digits, '_' or '-'.");
            } else if (value.isNull()) {
                continue;
            } else if (value.isTextual()) {
                if (value.asText().length() > MAX_METADATA_VALUE_LENGTH) {
                    errors.add(keyField, "too_long", "Metadata values are at most "
                            + MAX_METADATA_VALUE_LENGTH + " characters.");
                } else {
                    errors.storable(value.asText(), keyField);
                }
            } else if (!value.isNumber() && !value.isBoolean()) {
                errors.add(keyField, "invalid_type", "Metadata values must be strings, numbers or booleans.");
            }
            normalized.set(key, value);
        }
        return normalized;
    }

    private static Instant timestamp(JsonNode node, String name, String field, Validation errors) {
        OffsetDateTime time = errors.dateTime(errors.requiredString(node, name, field), field);
        return time == null ? null : time.toInstant().truncatedTo(ChronoUnit.MILLIS);
    }

    private static Integer version(JsonNode event, Validation errors) {
        JsonNode version = Validation.present(event.get("version"));
        if (version == null) {
            return null;
        }
        if (!version.canConvertToInt() || !version.isIntegralNumber() || version.intValue() < 1) {
            errors.add("event.version", "invalid_type", "event.version must be a positive integer.");
            return null;
        }
        return version.intValue();
    }
}
