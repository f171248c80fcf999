package dev.auditstream.api;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns the exception an API route failed with into the response the client sees, and shapes every response. */
public final class ApiErrors {

    private static final Logger LOG = LoggerFactory.getLogger(ApiErrors.class);

    /** Called from the shared routeConfiguration's onException. */
    public void render(Exchange exchange) {
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        ApiException error = cause instanceof ApiException api ? api : internal(exchange, cause);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("message", error.getMessage());
        body.put("code", error.code());
        if (!error.errors().isEmpty()) {
            body.put("errors", error.errors());
        }
        Message out = exchange.getMessage();
        out.setHeader(Exchange.HTTP_RESPONSE_CODE, error.status());
        out.setHeader(Exchange.CONTENT_TYPE, "application/json");
        if (error.status() == 503) {
            out.setHeader("Retry-After", "1");
        }
        out.setBody(Json.write(body));
    }

    /**
     * Leaves only the headers a response should carry: platform-http copies every request header (and form field)
     * into the exchange, and would echo them back.
     */
    public void shapeResponse(Exchange exchange) {
        Message out = exchange.getMessage();
        Object status = out.getHeader(Exchange.HTTP_RESPONSE_CODE);
        Object retryAfter = out.getHeader("Retry-After");
        out.removeHeaders("*");
        if (status != null) {
            out.setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        }
        if (retryAfter != null) {
            out.setHeader("Retry-After", retryAfter);
        }
        out.setHeader(Exchange.CONTENT_TYPE, "application/json");
        out.setHeader("X-Request-ID", exchange.getVariable("requestId", String.class));
    }

    private static ApiException internal(Exchange exchange, Throwable cause) {
        String requestId = exchange.getVariable("requestId", String.class);
        // Logged with the request id the client got back; the body never carries internals.
        LOG.error("Request {} failed", requestId != null ? requestId : UUID.randomUUID(), cause);
        return new ApiException(500, "internal_error", "Internal error; request id " + requestId + ".",
                List.of());
    }
}
