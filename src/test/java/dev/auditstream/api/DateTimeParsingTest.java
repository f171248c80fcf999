package dev.auditstream.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The hand-read form of event timestamps reads exactly what {@link OffsetDateTime#parse} reads. */
class DateTimeParsingTest {

    @Test
    void readsUtcTimestampsWithAnyNumberOfFractionalDigitsAsTheParserDoes() {
        SplittableRandom random = new SplittableRandom(11);
        long from = Instant.parse("0001-01-01T00:00:00Z").getEpochSecond();
        long to = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
        for (int i = 0; i < 50_000; i++) {
            Instant instant = Instant.ofEpochSecond(random.nextLong(from, to), random.nextInt(1_000_000_000));
            String text = instant.toString();
            int fraction = random.nextInt(10);
            String cut = text.substring(0, 19) + (fraction == 0 ? "" : "." + (text.length() > 20
                    ? (text.substring(20, text.length() - 1) + "000000000").substring(0, fraction)
                    : "000000000".substring(0, fraction))) + "Z";
            assertThat(Validation.parseDateTime(cut)).as(cut).isEqualTo(OffsetDateTime.parse(cut));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"2024-02-30T10:30:00.000Z", "2023-02-29T00:00:00Z", "2024-01-15T24:00:00Z",
        "2024-01-15T10:60:00Z", "2024-01-15T10:30:60Z", "2024-13-15T10:30:00Z",
        "2024-01-15T10:30:0x.000Z", "2024-01-15 10:30:00.000Z", "2024-01-15T10:30:00.0000000000Z", "yesterday"})
    void refusesWhatTheParserRefuses(String text) {
        assertThatThrownBy(() -> OffsetDateTime.parse(text)).isInstanceOf(DateTimeException.class);
        assertThatThrownBy(() -> Validation.parseDateTime(text)).isInstanceOf(DateTimeException.class);
    }

    @Test
    void leavesOtherOffsetsToTheParser() {
        assertThat(Validation.parseDateTime("2024-01-15T12:30:00.5+02:00"))
                .isEqualTo(OffsetDateTime.parse("2024-01-15T12:30:00.5+02:00"));
    }
}
