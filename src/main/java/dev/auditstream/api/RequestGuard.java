package dev.auditstream.api;

import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.apache.camel.Exchange;
import org.apache.camel.Message;

import dev.auditstream.events.Actor;

/**
 * What every HTTP request goes through first (from the shared routeConfiguration): {@link InboundRequest}, then for
 * the API the key check, and for every request a body within the size limit that, on a write, is JSON.
 */
public final class RequestGuard {

    private static final Set<String> WRITES = Set.of("POST", "PUT", "PATCH");

    private final ApiKeys apiKeys;
    private final ApiErrors errors;
    private final long maxBodyBytes;

    public RequestGuard(ApiKeys apiKeys, ApiErrors errors, long maxBodyBytes) {
        this.apiKeys = apiKeys;
        this.errors = errors;
        this.maxBodyBytes = maxBodyBytes;
    }

    /**
     * API routes: an API key, which becomes the request's {@link Actor}; a body without Content-Type is taken as JSON
     * (what API clients send).
     */
    public void check(Exchange exchange) {
        admit(exchange, () -> {
            byte[] key = apiKeys.require(exchange.getMessage().getHeader("Authorization", String.class));
            exchange.setVariable(Actor.VARIABLE, Actor.apiKey(key, exchange));
            requireJsonBody(exchange, false);
            // the answer is JSON too
            exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
        });
    }

    /**
     * Routes a link or a session authorizes (the portal, downloads): a body must say it is JSON, which a form on
     * another site cannot.
     */
    public void checkWithoutApiKey(Exchange exchange) {
        admit(exchange, () -> requireJsonBody(exchange, true));
    }

    /** A refusal is answered at once and the route stops (interceptFrom runs outside the route's onException). */
    private void admit(Exchange exchange, Runnable checks) {
        try {
            InboundRequest.admit(exchange);
            checks.run();
        } catch (ApiException refused) {
            exchange.setProperty(Exchange.EXCEPTION_CAUGHT, refused);
            errors.render(exchange);
            exchange.setRouteStop(true);
        }
    }

    private void requireJsonBody(Exchange exchange, boolean typeRequired) {
        Message in = exchange.getMessage();
        boolean write = WRITES.contains(in.getHeader(Exchange.HTTP_METHOD, String.class));
        String contentType = in.getHeader(Exchange.CONTENT_TYPE, String.class);
        if (write && contentType != null && !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw unsupportedMediaType();
        }
        byte[] body = in.getBody(byte[].class);
        if (body != null && body.length > maxBodyBytes) {
            throw ApiException.tooLarge(maxBodyBytes);
        }
        if (write && typeRequired && contentType == null && body != null && body.length > 0) {
            throw unsupportedMediaType();
        }
        in.setBody(body);
    }

    private static ApiException unsupportedMediaType() {
        return new ApiException(415, "unsupported_media_type", "Send the request body as application/json.",
                List.of());
    }
}
