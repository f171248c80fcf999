package dev.auditstream.outbound;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * A destination's Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, read under any header-name case.
 * Capped at an hour, so one odd answer cannot park a stream for a year; nonsense is no advice.
 */
public final class RetryAfter {

    public static final Duration MAX = Duration.ofHours(1);
    private static final Pattern SECONDS = Pattern.compile("[0-9]+");

    private RetryAfter() {
    }

    /** The answer's advice, or zero. */
    public static Duration of(OutboundResponse answer, Instant now) {
        return parse(answer.header("Retry-After"), now);
    }

    public static Duration parse(String value, Instant now) {
        if (value == null || value.isBlank()) {
            return Duration.ZERO;
        }
        String trimmed = value.trim();
        if (SECONDS.matcher(trimmed).matches()) {
            // more digits than a long holds is still "a long time"
            return trimmed.length() > 6 ? MAX : capped(Duration.ofSeconds(Long.parseLong(trimmed)));
        }
        try {
            Instant at = ZonedDateTime.parse(trimmed, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            return at.isAfter(now) ? capped(Duration.between(now, at)) : Duration.ZERO;
        } catch (DateTimeParseException notADate) {
            return Duration.ZERO;
        }
    }

    private static Duration capped(Duration wait) {
        return wait.compareTo(MAX) > 0 ? MAX : wait;
    }
}
