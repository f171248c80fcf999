package dev.auditstream.events;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import org.apache.camel.Exchange;

import dev.auditstream.api.InboundRequest;
import dev.auditstream.api.Validation;

/**
 * Who made a change, as the service's own audit events record it, and from where (the event's context). The request
 * check sets it as exchange variable {@value #VARIABLE}; the routes pass it to the steps that change something.
 *
 * @param name       null for an API key
 * @param location   the client's IP address, or "unknown"
 * @param userAgent  the request's User-Agent, or "unknown"
 */
public record Actor(String type, String id, String name, String location, String userAgent) {

    public static final String VARIABLE = "actor";
    private static final String UNKNOWN = "unknown";

    /** A caller with an API key, known by a fingerprint of the key: the key itself is never recorded. */
    public static Actor apiKey(String key, Exchange exchange) {
        return new Actor("api_key", "key_" + fingerprint(key), null, origin(exchange, InboundRequest.CLIENT_ADDRESS),
                origin(exchange, InboundRequest.USER_AGENT));
    }

    /** An Admin Portal session, known by a fingerprint of its token: the token itself would open the session. */
    public static Actor portalSession(String sessionToken, Exchange exchange) {
        return new Actor("portal_session", "portal_session_" + fingerprint(sessionToken), "Admin Portal",
                origin(exchange, InboundRequest.CLIENT_ADDRESS), origin(exchange, InboundRequest.USER_AGENT));
    }

    /** The first 12 hex digits of the secret's SHA-256: enough to tell keys apart, nothing to recover one from. */
    private static String fingerprint(String secret) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A value of the request as an event may hold it: no control characters, within the event's string limit. */
    private static String origin(Exchange exchange, String variable) {
        String value = exchange.getVariable(variable, String.class);
        if (value == null || value.isBlank()) {
            return UNKNOWN;
        }
        String printable = value.replaceAll("\\p{Cntrl}", "");
        return printable.length() > Validation.Limit.TEXT.characters
                ? printable.substring(0, Validation.Limit.TEXT.characters) : printable;
    }
}
