package dev.auditstream.api;

import java.util.List;
import java.util.UUID;

import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * What every API request goes through first (from the shared routeConfiguration): a request id for the response and
 * the logs, the API key check, and the body size limit.
 */
public final class RequestGuard {

    private final ApiKeys apiKeys;
    private final long maxBodyBytes;

    public RequestGuard(ApiKeys apiKeys, long maxBodyBytes) {
        this.apiKeys = apiKeys;
        this.maxBodyBytes = maxBodyBytes;
    }

    /** Refusals are left in {@link Exchange#EXCEPTION_CAUGHT} for the route to answer. */
    public void check(Exchange exchange) {
        try {
            admit(exchange);
        } catch (ApiException refused) {
            exchange.setProperty(Exchange.EXCEPTION_CAUGHT, refused);
        }
    }

    private void admit(Exchange exchange) {
        Message in = exchange.getMessage();
        String requestId = in.getHeader("X-Request-ID", String.class);
        if (requestId == null || requestId.isBlank() || requestId.length() > 200) {
            requestId = UUID.randomUUID().toString();
        }
        exchange.setVariable("requestId", requestId);
        // set now so every answer, success or refusal, carries them (see ResponseHeaders)
        in.setHeader("X-Request-ID", requestId);
        apiKeys.require(in.getHeader("Authorization", String.class));
        String method = in.getHeader(Exchange.HTTP_METHOD, String.class);
        String contentType = in.getHeader(Exchange.CONTENT_TYPE, String.class);
        if (("POST".equals(method) || "PUT".equals(method) || "PATCH".equals(method))
                && contentType != null && !contentType.toLowerCase().startsWith("application/json")) {
            throw new ApiException(415, "unsupported_media_type", "Send the request body as application/json.",
                    List.of());
        }
        in.setHeader(Exchange.CONTENT_TYPE, "application/json");
        byte[] body = in.getBody(byte[].class);
        if (body != null && body.length > maxBodyBytes) {
            throw ApiException.tooLarge(maxBodyBytes);
        }
        in.setBody(body);
    }
}
