package dev.auditstream.outbound;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;

/**
 * A destination's answer: its status, its headers (looked up in any case, as HTTP names are), and at most the first
 * {@link OutboundHttp#MAX_ANSWER_BYTES} of its body.
 */
public record OutboundResponse(int status, Map<String, String> headers, byte[] body) {

    /** The header's (first) value, or null; the name in any case. */
    public String header(String name) {
        return headers.get(name);
    }

    public String text() {
        return new String(body, StandardCharsets.UTF_8);
    }

    /** Retry-After as seconds (see {@link RetryAfter}); 0 when absent or unreadable. */
    public long retryAfterSeconds() {
        return RetryAfter.of(this, Instant.now()).toSeconds();
    }
}
