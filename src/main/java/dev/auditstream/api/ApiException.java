package dev.auditstream.api;

import java.util.List;

/** A refusal with the HTTP status and JSON error body the client gets; never carries a stack trace out. */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String code;
    private final List<FieldError> errors;
    private final long retryAfterSeconds;

    public ApiException(int status, String code, String message, List<FieldError> errors) {
        this(status, code, message, errors, 0);
    }

    private ApiException(int status, String code, String message, List<FieldError> errors, long retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.errors = List.copyOf(errors);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static ApiException badRequest(String code, String message) {
        return new ApiException(400, code, message, List.of());
    }

    public static ApiException unauthorized() {
        return new ApiException(401, "unauthorized", "Missing or invalid API key: send Authorization: Bearer <api key>.",
                List.of());
    }

    public static ApiException notFound(String what, String id) {
        return new ApiException(404, "entity_not_found", what + " not found: '" + id + "'.", List.of());
    }

    public static ApiException tooLarge(long limit) {
        return new ApiException(413, "payload_too_large", "Request body exceeds " + limit + " bytes.", List.of());
    }

    public static ApiException invalid(List<FieldError> errors) {
        return new ApiException(422, "validation_failed", "Validation failed.", errors);
    }

    /** A limit was reached: 429 with the seconds to wait in Retry-After. */
    public static ApiException tooManyRequests(String code, String message, long retryAfterSeconds) {
        return new ApiException(429, code, message, List.of(), Math.max(1, retryAfterSeconds));
    }

    public static ApiException unavailable(String message) {
        return new ApiException(503, "service_unavailable", message, List.of(), 1);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public List<FieldError> errors() {
        return errors;
    }

    /** Seconds the client should wait before retrying (Retry-After), or 0 for no such advice. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
