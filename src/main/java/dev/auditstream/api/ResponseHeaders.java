package dev.auditstream.api;

import java.util.Set;

import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultHeaderFilterStrategy;

/**
 * The API's header filter for platform-http: requests come in with all their headers (the routes read what they
 * need), responses go out with only the headers the API defines. platform-http copies request headers into the
 * exchange, so without this a response would echo them back, Authorization included.
 */
public final class ResponseHeaders extends DefaultHeaderFilterStrategy {

    private static final Set<String> SENT = Set.of("content-type", "content-disposition", "x-request-id", "retry-after", "location",
            "set-cookie", "cache-control", "content-security-policy");

    @Override
    public boolean applyFilterToCamelHeaders(String headerName, Object headerValue, Exchange exchange) {
        return !SENT.contains(headerName.toLowerCase());
    }

    @Override
    public boolean applyFilterToExternalHeaders(String headerName, Object headerValue, Exchange exchange) {
        return false;
    }
}
