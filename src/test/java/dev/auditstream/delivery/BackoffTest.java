package dev.auditstream.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Full-jitter backoff: the ceiling it draws under, its cap, and Retry-After as a floor. */
class BackoffTest {

    private static final Duration BASE = Duration.ofSeconds(1);
    private static final Duration MAX = Duration.ofMinutes(5);

    /** A random source that remembers the bound it was asked for and answers with a fixed draw. */
    private static final class Draw implements RandomGenerator {
        private final boolean highest;
        long bound = -1;

        Draw(boolean highest) {
            this.highest = highest;
        }

        @Override
        public long nextLong() {
            throw new AssertionError("only a bounded draw is expected");
        }

        @Override
        public long nextLong(long bound) {
            this.bound = bound;
            return highest ? bound - 1 : 0;
        }
    }

    @ParameterizedTest
    @CsvSource({"0, 1000", "1, 2000", "2, 4000", "3, 8000", "5, 32000", "8, 256000"})
    void theCeilingIsBaseTimesTwoToTheFailuresAndIsReachable(int failures, long ceilingMs) {
        Draw highest = new Draw(true);
        assertThat(StreamStates.backoff(failures, BASE, MAX, 0, highest)).isEqualTo(Duration.ofMillis(ceilingMs));
        // the bound is exclusive: the ceiling itself can be drawn
        assertThat(highest.bound).isEqualTo(ceilingMs + 1);
    }

    @ParameterizedTest
    @CsvSource({"9", "10", "20", "21", "63", "64", "1000", "2147483647"})
    void theCeilingNeverExceedsTheMaximum(int failures) {
        Draw highest = new Draw(true);
        assertThat(StreamStates.backoff(failures, BASE, MAX, 0, highest)).isEqualTo(MAX);
        assertThat(highest.bound).isEqualTo(MAX.toMillis() + 1);
    }

    @Test
    void theDoublingStopsAtTwentyFailuresSoTheShiftCannotOverflow() {
        Duration unbounded = Duration.ofDays(100_000);
        Draw at20 = new Draw(true);
        Draw at40 = new Draw(true);
        StreamStates.backoff(20, Duration.ofMillis(1), unbounded, 0, at20);
        StreamStates.backoff(40, Duration.ofMillis(1), unbounded, 0, at40);
        assertThat(at20.bound).isEqualTo((1L << 20) + 1);
        assertThat(at40.bound).isEqualTo((1L << 20) + 1);
    }

    @Test
    void theLowestDrawIsAnImmediateRetry() {
        assertThat(StreamStates.backoff(4, BASE, MAX, 0, new Draw(false))).isEqualTo(Duration.ZERO);
    }

    @Test
    void retryAfterIsAFloorTheJitterCannotGoBelow() {
        assertThat(StreamStates.backoff(0, BASE, MAX, 120, new Draw(false))).isEqualTo(Duration.ofSeconds(120));
        assertThat(StreamStates.backoff(0, BASE, MAX, 120, new Draw(true))).isEqualTo(Duration.ofSeconds(120));
        // a longer draw than Retry-After stands
        assertThat(StreamStates.backoff(8, BASE, MAX, 120, new Draw(true))).isEqualTo(Duration.ofMillis(256_000));
    }

    @Test
    void retryAfterIsHonouredBeyondTheMaximum() {
        assertThat(StreamStates.backoff(30, BASE, MAX, 3600, new Draw(true))).isEqualTo(Duration.ofHours(1));
    }

    @Test
    void realDrawsStayWithinZeroAndTheCeilingAndSpreadOverIt() {
        SplittableRandom random = new SplittableRandom(42);
        long lowest = Long.MAX_VALUE;
        long highest = Long.MIN_VALUE;
        for (int i = 0; i < 10_000; i++) {
            long ms = StreamStates.backoff(3, BASE, MAX, 0, random).toMillis();
            assertThat(ms).isBetween(0L, 8000L);
            lowest = Math.min(lowest, ms);
            highest = Math.max(highest, ms);
        }
        // full jitter, not equal jitter: draws reach near both ends of [0, 8 s]
        assertThat(lowest).isLessThan(100);
        assertThat(highest).isGreaterThan(7900);
    }
}
