package dev.auditstream.api;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.WebServerRequest;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.platform.http.vertx.HttpMessage;

/**
 * What a route may read of an HTTP request, each part from where it belongs. platform-http copies request headers,
 * query parameters and form fields into one map of headers, so a query parameter could stand in for a header (an API
 * key, the portal's CSRF header) and a caller could name any header a component reads. Instead the exchange gets:
 * the path parameters (a query parameter of the same name does not override them), the query parameters, the few
 * request headers the routes read, taken from the request's real headers only, and the method. Nothing else, so no
 * {@code Camel*} name a caller chose reaches a step whatever the header filter let in.
 */
public final class InboundRequest {

    /** The request headers routes read. */
    private static final List<String> READ = List.of("Authorization", "Content-Type", "Cookie", "Idempotency-Key",
            "X-AuditStream-Portal", "X-Request-ID");
    private static final String REQUEST_ID = "X-Request-ID";
    /** Exchange variables with where a request came from, for the context of the service's own audit events. */
    public static final String CLIENT_ADDRESS = "clientAddress";
    public static final String USER_AGENT = "userAgent";
    /** A client's request id is logged: nothing that could forge or break a log line. */
    private static final Pattern SAFE_REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private InboundRequest() {
    }

    /**
     * Replaces the exchange's headers as described above; the request id (the client's, if safe to log, else a new
     * one) goes into variable {@code requestId} and the response's X-Request-ID; the client's IP address and its
     * User-Agent go into variables {@value #CLIENT_ADDRESS} and {@value #USER_AGENT} (not headers: no step reads them
     * as such).
     */
    public static void admit(Exchange exchange) {
        RoutingContext context = routingContext(exchange);
        HttpServerRequest request = context.request();
        Message message = exchange.getMessage();
        message.removeHeaders("*");
        for (String name : READ) {
            List<String> values = request.headers().getAll(name);
            if (!values.isEmpty()) {
                // HTTP/2 may split the cookies into several headers
                message.setHeader(name, name.equals("Cookie") ? String.join("; ", values) : values.get(0));
            }
        }
        String requestId = message.getHeader(REQUEST_ID, String.class);
        if (requestId == null || !SAFE_REQUEST_ID.matcher(requestId).matches()) {
            requestId = UUID.randomUUID().toString();
        }
        exchange.setVariable("requestId", requestId);
        message.setHeader(REQUEST_ID, requestId);
        message.setHeader(Exchange.HTTP_METHOD, request.method().name());
        exchange.setVariable(CLIENT_ADDRESS,
                request.remoteAddress() == null ? null : request.remoteAddress().hostAddress());
        exchange.setVariable(USER_AGENT, request.getHeader("User-Agent"));

        Map<String, String> path = context.pathParams();
        MultiMap query = context.queryParams();
        for (String name : query.names()) {
            if (path.containsKey(name) || isRead(name) || isCamel(name)) {
                continue;
            }
            List<String> values = query.getAll(name);
            if (values.size() > 1) {
                throw ApiException.badRequest("duplicate_parameter",
                        "Query parameter " + name + " is given more than once; list values are comma-separated.");
            }
            message.setHeader(name, values.get(0));
        }
        path.forEach(message::setHeader);
    }

    private static boolean isRead(String name) {
        return READ.stream().anyMatch(name::equalsIgnoreCase);
    }

    private static boolean isCamel(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.startsWith("camel") || lower.startsWith("org.apache.camel.");
    }

    private static RoutingContext routingContext(Exchange exchange) {
        if (exchange.getIn() instanceof HttpMessage http && http.getRequest() instanceof WebServerRequest web) {
            return web.routingContext();
        }
        throw new IllegalStateException("Route " + exchange.getFromRouteId() + " is not a platform-http route");
    }
}
