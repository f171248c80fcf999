package dev.auditstream.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One reason a request was refused: {@code field} names it the way WorkOS does ({@code event.actor.id}); schema
 * failures also carry {@code instancePath}, the JSON pointer WorkOS returns for them.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FieldError(String field, String code, String message, String instancePath) {

    public static FieldError of(String field, String code, String message) {
        return new FieldError(field, code, message, null);
    }
}
