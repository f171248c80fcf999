package dev.auditstream.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

/** Retry-After as RFC 9110 has it: delay-seconds or an HTTP-date, under any header-name case, capped at an hour. */
class RetryAfterTest {

    private static final Instant NOW = Instant.parse("2026-01-15T10:30:00Z");

    @Test
    void secondsAreTakenAsTheyAre() {
        assertThat(RetryAfter.parse("120", NOW)).isEqualTo(Duration.ofSeconds(120));
        assertThat(RetryAfter.parse(" 7 ", NOW)).isEqualTo(Duration.ofSeconds(7));
    }

    @Test
    void anHttpDateIsTheTimeFromNow() {
        assertThat(RetryAfter.parse("Thu, 15 Jan 2026 10:32:30 GMT", NOW)).isEqualTo(Duration.ofSeconds(150));
        assertThat(RetryAfter.parse("Thu, 15 Jan 2026 10:00:00 GMT", NOW)).isEqualTo(Duration.ZERO);
    }

    @Test
    void anythingLongerThanAnHourIsAnHour() {
        assertThat(RetryAfter.parse("31536000", NOW)).isEqualTo(Duration.ofHours(1));
        assertThat(RetryAfter.parse("Fri, 15 Jan 2027 10:30:00 GMT", NOW)).isEqualTo(Duration.ofHours(1));
        assertThat(RetryAfter.parse("99999999999999999999999", NOW)).isEqualTo(Duration.ofHours(1));
    }

    @Test
    void nonsenseAndNegativesAreNoAdvice() {
        assertThat(RetryAfter.parse(null, NOW)).isEqualTo(Duration.ZERO);
        assertThat(RetryAfter.parse("", NOW)).isEqualTo(Duration.ZERO);
        assertThat(RetryAfter.parse("-5", NOW)).isEqualTo(Duration.ZERO);
        assertThat(RetryAfter.parse("soon", NOW)).isEqualTo(Duration.ZERO);
        assertThat(RetryAfter.parse("1.5", NOW)).isEqualTo(Duration.ZERO);
    }

    @Test
    void theHeaderIsFoundInAnyCase() {
        for (String name : new String[] {"Retry-After", "retry-after", "RETRY-AFTER"}) {
            Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            headers.put(name, "30");
            OutboundResponse answer = new OutboundResponse(503, headers, new byte[0]);
            assertThat(RetryAfter.of(answer, NOW)).as(name).isEqualTo(Duration.ofSeconds(30));
        }
    }
}
