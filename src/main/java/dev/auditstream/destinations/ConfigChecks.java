package dev.auditstream.destinations;

import java.net.URISyntaxException;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.auditstream.api.Validation;
import dev.auditstream.outbound.AddressGuard;
import dev.auditstream.outbound.HeaderRules;
import dev.auditstream.outbound.UnsafeDestinationException;

/**
 * Checks of stream config values shared by the destinations, reporting as {@code config.<member>}: URLs a
 * destination may have, header names and values.
 */
public final class ConfigChecks {


    private final Validation errors;
    private final AddressGuard guard;
    private final List<String> secretPointers;

    /** @param secretPointers the destination's secret members, which may be as long as a key file */
    public ConfigChecks(Validation errors, AddressGuard guard, List<String> secretPointers) {
        this.errors = errors;
        this.guard = guard;
        this.secretPointers = secretPointers;
    }

    public void unknownMembers(JsonNode config, Set<String> allowed, String prefix) {
        errors.unknownFields(config, allowed, "config." + prefix);
    }

    /** An optional string member (a secret when the destination names it one); null when absent. */
    public String string(JsonNode config, String member, String field) {
        Validation.Limit limit = secretPointers.contains("/" + field.replace('.', '/'))
                ? Validation.Limit.SECRET : Validation.Limit.TEXT;
        return errors.optionalString(config, member, "config." + field, limit);
    }

    /** An optional PEM text member (a certificate chain, a key): as long as a key file may be. */
    public String pem(JsonNode config, String member, String field) {
        return errors.optionalString(config, member, "config." + field, Validation.Limit.SECRET);
    }

    /** An optional whole number between {@code min} and {@code max}; null when absent or refused. */
    public Long wholeNumber(JsonNode config, String member, String field, long min, long max) {
        JsonNode value = Validation.present(config.get(member));
        if (value == null) {
            return null;
        }
        if (!value.canConvertToExactIntegral() || !value.canConvertToLong() || value.asLong() < min
                || value.asLong() > max) {
            errors.add("config." + field, "invalid",
                    "config." + field + " must be a whole number from " + min + " to " + max + ".");
            return null;
        }
        return value.asLong();
    }

    /** An optional member with a fixed set of values. */
    public String oneOf(JsonNode config, String member, String field, Set<String> allowed) {
        String value = string(config, member, field);
        if (value != null && !allowed.contains(value)) {
            errors.add("config." + field, "invalid", "config." + field + " must be one of " + allowed + ".");
            return null;
        }
        return value;
    }

    /** An optional URL member: a destination this service may send to (see {@link AddressGuard#checkUrl}). */
    public String url(JsonNode config, String member) {
        return url(config, member, member);
    }

    /** {@link #url(JsonNode, String)} of a nested member, reported as {@code config.<field>}. */
    public String url(JsonNode config, String member, String field) {
        String value = errors.optionalString(config, member, "config." + field, Validation.Limit.URL);
        if (value == null) {
            return null;
        }
        try {
            guard.checkUrl(value);
        } catch (URISyntaxException e) {
            errors.add("config." + field, "invalid_url", "config." + field + " is not a URL.");
        } catch (UnsafeDestinationException e) {
            errors.add("config." + field, "unsafe_url", e.getMessage());
        }
        return value;
    }

    /** An optional string member that is sent as a header value. */
    public String headerValue(JsonNode config, String member, String field) {
        return checked(config, member, field, HeaderRules::valueProblem);
    }

    /** An optional string member that is sent encoded (a basic-auth password). */
    public String encodedHeaderValue(JsonNode config, String member, String field) {
        return checked(config, member, field, HeaderRules::encodedValueProblem);
    }

    /** An optional string member matching {@code pattern}, which {@code what} describes to the caller. */
    public String matching(JsonNode config, String member, String field, Pattern pattern, String what) {
        return checked(config, member, field, value -> pattern.matcher(value).matches() ? null : "must be " + what);
    }

    /** An optional custom header name. */
    public String headerName(JsonNode config, String member, String field) {
        return checked(config, member, field, HeaderRules::nameProblem);
    }

    /** An optional string member that {@code problemOf} finds nothing wrong with (else an error, and null). */
    private String checked(JsonNode config, String member, String field, UnaryOperator<String> problemOf) {
        String value = string(config, member, field);
        String problem = value == null ? null : problemOf.apply(value);
        if (problem != null) {
            add(field, "invalid", "config." + field + " " + problem + ".");
            return null;
        }
        return value;
    }

    /** Whether loopback and private destinations (and plain http) are allowed here. */
    public boolean allowPrivate() {
        return guard.allowPrivate();
    }

    public void add(String field, String code, String message) {
        errors.add("config." + field, code, message);
    }

    /** A destination's answer, shortened for messages and the deliveries list. */
    public static String abbreviate(String text) {
        if (text == null) {
            return "";
        }
        String flat = text.replaceAll("\\s+", " ").trim();
        return flat.length() <= 300 ? flat : flat.substring(0, 300) + "…";
    }
}
