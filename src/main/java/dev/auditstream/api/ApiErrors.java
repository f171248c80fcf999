package dev.auditstream.api;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.postgresql.util.PSQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.auditstream.db.SqlStates;

/** Turns the exception an API route failed with into the response the client sees. */
public final class ApiErrors {

    private static final Logger LOG = LoggerFactory.getLogger(ApiErrors.class);

    /** Called from the shared routeConfiguration's onException. */
    public void render(Exchange exchange) {
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String violatedConstraint = uniqueViolation(cause);
        ApiException error = cause instanceof ApiException api ? api
                : violatedConstraint != null ? conflict(violatedConstraint)
                : SqlStates.unreachable(cause) ? ApiException.unavailable("The database is unavailable; retry shortly.")
                : internal(exchange, cause);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("message", error.getMessage());
        body.put("code", error.code());
        if (!error.errors().isEmpty()) {
            body.put("errors", error.errors());
        }
        Message out = exchange.getMessage();
        out.setHeader(Exchange.HTTP_RESPONSE_CODE, error.status());
        out.setHeader(Exchange.CONTENT_TYPE, "application/json");
        if (error.retryAfterSeconds() > 0) {
            out.setHeader("Retry-After", String.valueOf(error.retryAfterSeconds()));
        }
        out.setBody(Json.write(body));
    }

    /** The constraint a failed insert violated, when the failure is a unique violation. */
    private static String uniqueViolation(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof PSQLException sql && "23505".equals(sql.getSQLState())) {
                return sql.getServerErrorMessage() == null ? "" : sql.getServerErrorMessage().getConstraint();
            }
        }
        return null;
    }

    private static ApiException conflict(String constraint) {
        String message = "organization_external_id_key".equals(constraint)
                ? "An organization with this external_id already exists."
                : "This conflicts with an existing object.";
        return new ApiException(409, "conflict", message, List.of());
    }

    private static ApiException internal(Exchange exchange, Throwable cause) {
        String requestId = exchange.getVariable("requestId", String.class);
        // Logged with the request id the client got back; the body never carries internals.
        LOG.error("Request {} failed", requestId != null ? requestId : UUID.randomUUID(), cause);
        return new ApiException(500, "internal_error", "Internal error; request id " + requestId + ".",
                List.of());
    }
}
