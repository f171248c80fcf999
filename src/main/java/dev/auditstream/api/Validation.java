package dev.auditstream.api;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

/** Collects every field a request body gets wrong, so one 422 names them all. */
public final class Validation {

    public static final int MAX_STRING_LENGTH = 1000;

    private final List<FieldError> list = new ArrayList<>();

    /** A member that is missing or JSON null counts as absent. */
    public static JsonNode present(JsonNode node) {
        return node == null || node.isNull() ? null : node;
    }

    public List<FieldError> list() {
        return list;
    }

    public void add(String field, String code, String message) {
        list.add(FieldError.of(field, code, message));
    }

    public void unknownFields(JsonNode node, Set<String> allowed, String prefix) {
        node.fieldNames().forEachRemaining(name -> {
            if (!allowed.contains(name)) {
                add(prefix + name, "unknown_field", prefix + name + " is not a known field.");
            }
        });
    }

    public String requiredString(JsonNode node, String name, String field) {
        JsonNode value = present(node.get(name));
        if (value == null) {
            add(field, "required", field + " is required.");
            return null;
        }
        return checkedString(value, field);
    }

    public String optionalString(JsonNode node, String name, String field) {
        JsonNode value = present(node.get(name));
        return value == null ? null : checkedString(value, field);
    }

    /** An ISO-8601 date-time with offset; null (and an error) when it is not one. */
    public OffsetDateTime dateTime(String value, String field) {
        if (value == null) {
            return null;
        }
        try {
            return OffsetDateTime.parse(value);
        } catch (DateTimeParseException e) {
            add(field, "invalid_date", field + " must be an ISO-8601 date-time with offset, e.g. 2024-01-15T10:30:00.000Z.");
            return null;
        }
    }

    /** Throws the 422 when anything was collected. */
    public void throwIfAny() {
        if (!list.isEmpty()) {
            throw ApiException.invalid(list);
        }
    }

    private String checkedString(JsonNode value, String field) {
        if (!value.isTextual()) {
            add(field, "invalid_type", field + " must be a string.");
            return null;
        }
        String text = value.asText();
        if (text.isBlank()) {
            add(field, "required", field + " must not be empty.");
            return null;
        }
        if (text.length() > MAX_STRING_LENGTH) {
            add(field, "too_long", field + " is at most " + MAX_STRING_LENGTH + " characters.");
            return null;
        }
        return text;
    }
}
