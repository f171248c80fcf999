package dev.auditstream.events;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** What makes two requests "the same" for Idempotency-Key: organization and normalized event, not the generated id. */
final class RequestHash {

    private RequestHash() {
    }

    static String of(IncomingEvent event) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(event.organizationId().getBytes(StandardCharsets.UTF_8));
            digest.update((byte) 0);
            digest.update(event.bodyJson().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
