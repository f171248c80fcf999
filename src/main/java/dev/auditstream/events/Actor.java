package dev.auditstream.events;

import java.util.HexFormat;

import org.apache.camel.Exchange;

import dev.auditstream.api.ApiKeys;
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

    /**
     * A caller with an API key, known by a fingerprint of the key's SHA-256 (as the key check computed it): the key
     * itself is never recorded.
     */
    public static Actor apiKey(byte[] keyDigest, Exchange exchange) {
        return new Actor("api_key", "key_" + fingerprint(keyDigest), null,
                origin(exchange, InboundRequest.CLIENT_ADDRESS), origin(exchange, InboundRequest.USER_AGENT));
    }

    /** An Admin Portal session, known by a fingerprint of its token: the token itself would open the session. */
    public static Actor portalSession(String sessionToken, Exchange exchange) {
        return new Actor("portal_session", "portal_session_" + fingerprint(ApiKeys.sha256(sessionToken)),
                "Admin Portal", origin(exchange, InboundRequest.CLIENT_ADDRESS),
                origin(exchange, InboundRequest.USER_AGENT));
    }

    /** The first 12 hex digits of a secret's SHA-256: enough to tell keys apart, nothing to recover one from. */
    private static String fingerprint(byte[] digest) {
        return HexFormat.of().formatHex(digest, 0, 6);
    }

    /** A value of the request as an event may hold it: no control characters, within the event's string limit. */
    private static String origin(Exchange exchange, String variable) {
        String value = exchange.getVariable(variable, String.class);
        if (value == null || value.isBlank()) {
            return UNKNOWN;
        }
        // checked before any copy: this runs for every API request
        String printable = value.chars().anyMatch(Character::isISOControl)
                ? value.replaceAll("\\p{Cntrl}", "") : value;
        return printable.length() > Validation.Limit.TEXT.characters
                ? printable.substring(0, Validation.Limit.TEXT.characters) : printable;
    }
}
