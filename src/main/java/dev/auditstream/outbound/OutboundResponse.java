package dev.auditstream.outbound;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
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

    /** Retry-After as seconds or as an HTTP date; 0 when absent or unreadable. */
    public long retryAfterSeconds() {
        String value = header("Retry-After");
        if (value == null || value.isBlank()) {
            return 0;
        }
        try {
            return Math.max(0, Long.parseLong(value.trim()));
        } catch (NumberFormatException notSeconds) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
                return Math.max(0, Duration.between(ZonedDateTime.now(), at).toSeconds());
            } catch (DateTimeParseException notADate) {
                return 0;
            }
        }
    }
}
