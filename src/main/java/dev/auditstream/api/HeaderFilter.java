package dev.auditstream.api;

import java.util.Locale;
import java.util.Set;

import org.apache.camel.Exchange;
import org.apache.camel.http.base.HttpHeaderFilterStrategy;

/**
 * platform-http's header filter. Inbound it is Camel's own: no {@code Camel*} or {@code org.apache.camel.*} name, in
 * any letter case, comes in from a request header or query parameter (they steer components: CamelSqlQuery replaces
 * a sql: step's statement). {@link InboundRequest} then keeps only what the routes read. Outbound, a response carries
 * only the headers the API defines, never one of the request's.
 */
public final class HeaderFilter extends HttpHeaderFilterStrategy {

    private static final Set<String> SENT = Set.of("content-type", "content-disposition", "x-request-id",
            "retry-after", "location", "set-cookie", "cache-control", "content-security-policy",
            "x-content-type-options", "referrer-policy", "strict-transport-security", "x-frame-options");

    @Override
    public boolean applyFilterToCamelHeaders(String headerName, Object headerValue, Exchange exchange) {
        return !SENT.contains(headerName.toLowerCase(Locale.ROOT));
    }
}
