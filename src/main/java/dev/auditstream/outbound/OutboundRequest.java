package dev.auditstream.outbound;

import java.net.URI;
import java.util.List;

/**
 * One HTTP request to a destination, built in code: the checked URL (its query string goes to the destination as it
 * is), the method, headers whose names the code chose, the body, and the stream's TLS client identity if it has one
 * (mutual TLS; null for none).
 */
public record OutboundRequest(URI uri, String method, List<Header> headers, byte[] body, ClientIdentity identity) {

    public record Header(String name, String value) {
    }

    public static OutboundRequest post(URI uri, List<Header> headers, byte[] body) {
        return new OutboundRequest(uri, "POST", List.copyOf(headers), body, null);
    }

    /** This request, sent presenting the identity (the connection is made by that identity's own client). */
    public OutboundRequest with(ClientIdentity clientIdentity) {
        return new OutboundRequest(uri, method, headers, body, clientIdentity);
    }

    public static Header header(String name, String value) {
        return new Header(name, value);
    }
}
