package dev.auditstream.api;

import java.util.List;

/** A refusal with the HTTP status and JSON error body the client gets; never carries a stack trace out. */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String code;
    private final List<FieldError> errors;

    public ApiException(int status, String code, String message, List<FieldError> errors) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.errors = List.copyOf(errors);
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

    public static ApiException unavailable(String message) {
        return new ApiException(503, "service_unavailable", message, List.of());
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
}
