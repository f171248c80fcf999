package dev.auditstream.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class TimestampsTest {

    private static final DateTimeFormatter REFERENCE =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    @Test
    void writesMillisecondsInUtc() {
        assertThat(Timestamps.iso(Instant.parse("2024-01-15T10:30:00.123456Z"))).isEqualTo("2024-01-15T10:30:00.123Z");
        assertThat(Timestamps.iso(Instant.parse("0001-01-01T00:00:00Z"))).isEqualTo("0001-01-01T00:00:00.000Z");
        assertThat(Timestamps.iso(Instant.parse("9999-12-31T23:59:59.999999999Z")))
                .isEqualTo("9999-12-31T23:59:59.999Z");
    }

    @Test
    void agreesWithTheFormatterAcrossTheWholeRange() {
        long from = Instant.parse("0001-01-01T00:00:00Z").toEpochMilli();
        long to = Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli();
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 100_000; i++) {
            Instant instant = Instant.ofEpochMilli(random.nextLong(from, to)).plusNanos(random.nextInt(1_000_000));
            assertThat(Timestamps.iso(instant)).isEqualTo(REFERENCE.format(instant));
        }
    }
}
