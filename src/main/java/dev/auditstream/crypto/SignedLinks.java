package dev.auditstream.crypto;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.auditstream.api.Json;

/**
 * Expiring claims signed for one purpose (portal links and sessions, or download links), as a URL-safe token
 * {@code <key id>.<base64url claims>.<base64url HMAC-SHA256>}. The claims carry their kind ({@code k}) and expiry
 * ({@code e}, epoch seconds); verifying tells a valid token from an expired one and from one this service did not
 * sign for that kind, comparing signatures in constant time. Tokens signed with the previous master key verify
 * during a rotation; new ones are signed with the current key.
 */
public final class SignedLinks {

    public enum Verdict { VALID, EXPIRED, FORGED }

    /** The verdict, and the claims of a token this service signed (valid or expired). */
    public record Verified(Verdict verdict, ObjectNode claims) {

        static final Verified FORGED = new Verified(Verdict.FORGED, null);

        public boolean valid() {
            return verdict == Verdict.VALID;
        }
    }

    private final KeyRing keys;
    private final KeyRing.Purpose purpose;
    private final Clock clock;

    public SignedLinks(KeyRing keys, KeyRing.Purpose purpose) {
        this(keys, purpose, Clock.systemUTC());
    }

    SignedLinks(KeyRing keys, KeyRing.Purpose purpose, Clock clock) {
        this.keys = keys;
        this.purpose = purpose;
        this.clock = clock;
    }

    /** A token of this kind for the claims, valid until {@code expires}. */
    public String sign(String kind, Instant expires, ObjectNode claims) {
        ObjectNode signed = Json.MAPPER.createObjectNode().put("k", kind).put("e", expires.getEpochSecond());
        signed.setAll(claims);
        KeyRing.Key key = keys.current(purpose);
        String signedPart = key.id() + "." + Base64.getUrlEncoder().withoutPadding()
                .encodeToString(Json.write(signed).getBytes(StandardCharsets.UTF_8));
        return signedPart + "." + signature(key, signedPart);
    }

    public Verified verify(String kind, String token) {
        if (token == null) {
            return Verified.FORGED;
        }
        int last = token.lastIndexOf('.');
        int first = token.indexOf('.');
        if (first <= 0 || last == first) {
            return Verified.FORGED;
        }
        String signedPart = token.substring(0, last);
        Optional<KeyRing.Key> key = keys.find(purpose, token.substring(0, first));
        if (key.isEmpty() || !MessageDigest.isEqual(signature(key.get(), signedPart).getBytes(StandardCharsets.UTF_8),
                token.substring(last + 1).getBytes(StandardCharsets.UTF_8))) {
            return Verified.FORGED;
        }
        ObjectNode claims = Json.object(Base64.getUrlDecoder().decode(token.substring(first + 1, last)));
        if (!kind.equals(claims.path("k").asText())) {
            return Verified.FORGED;
        }
        boolean expired = clock.instant().getEpochSecond() >= claims.path("e").asLong();
        return new Verified(expired ? Verdict.EXPIRED : Verdict.VALID, claims);
    }

    private static String signature(KeyRing.Key key, String signedPart) {
        return Hmac.urlSafe(key.bytes(), signedPart.getBytes(StandardCharsets.UTF_8));
    }
}
