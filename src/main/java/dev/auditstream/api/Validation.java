package dev.auditstream.api;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Collects every field a request body gets wrong, so one 422 names them all. What PostgreSQL would refuse to store
 * (a NUL character, an unpaired UTF-16 surrogate, a date outside years 1-9999) is refused here, with its field, so
 * it never reaches a statement shared with other requests.
 */
public final class Validation {

    /** How long a string may be, by what it holds; the 422 names the limit. */
    public enum Limit {
        /** Names people give things (organizations, streams). */
        NAME(255, "a name"),
        /** Every other string. */
        TEXT(1000, "a value"),
        URL(2048, "a URL"),
        /** Credentials and key files: a service-account key's JSON (~2.3 KB), PEM certificate chains. */
        SECRET(16 * 1024, "a secret or key file");

        public final int characters;
        private final String what;

        Limit(int characters, String what) {
            this.characters = characters;
            this.what = what;
        }
    }

    /** The dates every API accepts: years 1 to 9999 in UTC, well inside PostgreSQL's timestamptz range. */
    private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
    private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999Z");

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
        return requiredString(node, name, field, Limit.TEXT);
    }

    public String requiredString(JsonNode node, String name, String field, Limit limit) {
        JsonNode value = present(node.get(name));
        if (value == null) {
            add(field, "required", field + " is required.");
            return null;
        }
        return checkedString(value, field, limit);
    }

    public String optionalString(JsonNode node, String name, String field) {
        return optionalString(node, name, field, Limit.TEXT);
    }

    public String optionalString(JsonNode node, String name, String field, Limit limit) {
        JsonNode value = present(node.get(name));
        return value == null ? null : checkedString(value, field, limit);
    }

    /** An ISO-8601 date-time with offset, in years 1-9999 (UTC); null (and an error) when it is not one. */
    public OffsetDateTime dateTime(String value, String field) {
        if (value == null) {
            return null;
        }
        OffsetDateTime parsed;
        try {
            parsed = parseDateTime(value);
        } catch (DateTimeException e) {
            add(field, "invalid_date", field + " must be an ISO-8601 date-time with offset, e.g. 2024-01-15T10:30:00.000Z.");
            return null;
        }
        Instant instant = parsed.toInstant();
        if (instant.isBefore(EARLIEST) || instant.isAfter(LATEST)) {
            add(field, "out_of_range", field + " must lie between 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.");
            return null;
        }
        return parsed;
    }

    /**
     * ISO-8601 with an offset. What SDKs send ({@code 2024-01-15T10:30:00.000Z}: UTC, up to nine fractional digits)
     * is read by hand, being read for every event; anything else by {@link OffsetDateTime#parse}. Both refuse the
     * same invalid dates (February 30th, hour 24).
     */
    static OffsetDateTime parseDateTime(String value) {
        int n = value.length();
        if (n >= 20 && n <= 30 && n != 21 && value.charAt(n - 1) == 'Z' && value.charAt(4) == '-'
                && value.charAt(7) == '-' && value.charAt(10) == 'T' && value.charAt(13) == ':'
                && value.charAt(16) == ':' && (n == 20 || value.charAt(19) == '.')) {
            int nanos = 0;
            for (int i = 20; i < n - 1; i++) {
                nanos = nanos * 10 + digit(value, i);
            }
            for (int i = n - 1; i < 29; i++) {
                nanos *= 10;
            }
            return OffsetDateTime.of(number(value, 0, 4), number(value, 5, 2), number(value, 8, 2),
                    number(value, 11, 2), number(value, 14, 2), number(value, 17, 2), n == 20 ? 0 : nanos,
                    ZoneOffset.UTC);
        }
        return OffsetDateTime.parse(value);
    }

    private static int number(String value, int from, int digits) {
        int number = 0;
        for (int i = from; i < from + digits; i++) {
            number = number * 10 + digit(value, i);
        }
        return number;
    }

    private static int digit(String value, int at) {
        char c = value.charAt(at);
        if (c < '0' || c > '9') {
            throw new DateTimeParseException("not a digit", value, at);
        }
        return c - '0';
    }

    /**
     * A string PostgreSQL can store as text: no NUL character and no unpaired UTF-16 surrogate (which JSON's
     * {@code \uD800} escapes can produce). Adds the error and returns false otherwise.
     */
    public boolean storable(String text, String field) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (c == 0 || Character.isSurrogate(c)) {
                add(field, "invalid_character", field + " contains a NUL character or an unpaired UTF-16 surrogate.");
                return false;
            }
        }
        return true;
    }

    /** Throws the 422 when anything was collected. */
    public void throwIfAny() {
        if (!list.isEmpty()) {
            throw ApiException.invalid(list);
        }
    }

    private String checkedString(JsonNode value, String field, Limit limit) {
        if (!value.isTextual()) {
            add(field, "invalid_type", field + " must be a string.");
            return null;
        }
        String text = value.asText();
        if (text.isBlank()) {
            add(field, "required", field + " must not be empty.");
            return null;
        }
        if (text.length() > limit.characters) {
            add(field, "too_long", field + " is at most " + limit.characters + " characters (the limit for "
                    + limit.what + ").");
            return null;
        }
        return storable(text, field) ? text : null;
    }
}
