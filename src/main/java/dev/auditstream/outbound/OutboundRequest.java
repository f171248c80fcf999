package dev.auditstream.outbound;

import java.net.URI;
import java.util.List;

/**
 * One HTTP request to a destination, built in code: the checked URL (its query string goes to the destination as it
 * is), the method, headers whose names the code chose, and the body.
 */
public record OutboundRequest(URI uri, String method, List<Header> headers, byte[] body) {

    public record Header(String name, String value) {
    }

    public static OutboundRequest post(URI uri, List<Header> headers, byte[] body) {
        return new OutboundRequest(uri, "POST", List.copyOf(headers), body);
    }

    public static Header header(String name, String value) {
        return new Header(name, value);
    }
}
