package dev.auditstream.destinations;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The limits a batch body is cut to: entries, bytes, and the one entry too large on its own. */
class EntriesTest {

    /** Four entries of ten bytes: a JSON array of n of them takes 2 + 10n + (n - 1) bytes. */
    private static final List<StoredEvent> TEN_BYTES = List.of(event("\"aaaaaaaa\""), event("\"bbbbbbbb\""),
            event("\"cccccccc\""), event("\"dddddddd\""));

    @Test
    void everythingFitsUnderGenerousLimits() {
        Entries entries = array(TEN_BYTES, 100, 1_000_000);
        assertThat(entries.count()).isEqualTo(4);
        assertThat(text(entries)).isEqualTo("[\"aaaaaaaa\",\"bbbbbbbb\",\"cccccccc\",\"dddddddd\"]");
    }

    @Test
    void aBodyExactlyAtTheByteLimitIsKept() {
        Entries entries = array(TEN_BYTES, 100, 34);
        assertThat(entries.count()).isEqualTo(3);
        assertThat(entries.body()).hasSize(34);
        assertThat(text(entries)).isEqualTo("[\"aaaaaaaa\",\"bbbbbbbb\",\"cccccccc\"]");
    }

    @Test
    void oneByteBelowTheLimitOfNEntriesCutsToNMinusOne() {
        Entries entries = array(TEN_BYTES, 100, 33);
        assertThat(entries.count()).isEqualTo(2);
        assertThat(text(entries)).isEqualTo("[\"aaaaaaaa\",\"bbbbbbbb\"]");
        assertThat(entries.body()).hasSize(23);
    }

    @Test
    void aLimitBetweenTwoSizesKeepsTheSmaller() {
        // 3 entries take 34 bytes, 4 take 45
        assertThat(array(TEN_BYTES, 100, 35).count()).isEqualTo(3);
        assertThat(array(TEN_BYTES, 100, 44).count()).isEqualTo(3);
        assertThat(array(TEN_BYTES, 100, 45).count()).isEqualTo(4);
    }

    @Test
    void theEntryLimitIsExact() {
        assertThat(array(TEN_BYTES, 2, 1_000_000).count()).isEqualTo(2);
        assertThat(text(array(TEN_BYTES, 2, 1_000_000))).isEqualTo("[\"aaaaaaaa\",\"bbbbbbbb\"]");
        assertThat(array(TEN_BYTES, 3, 1_000_000).count()).isEqualTo(3);
        assertThat(array(TEN_BYTES, 4, 1_000_000).count()).isEqualTo(4);
        assertThat(array(TEN_BYTES, 5, 1_000_000).count()).isEqualTo(4);
        assertThat(array(TEN_BYTES, 1, 1_000_000).count()).isEqualTo(1);
    }

    @Test
    void whicheverLimitIsReachedFirstCuts() {
        assertThat(array(TEN_BYTES, 2, 34).count()).isEqualTo(2);
        assertThat(array(TEN_BYTES, 3, 23).count()).isEqualTo(2);
    }

    @Test
    void anEventLargerThanTheLimitOnItsOwnIsSentAlone() {
        List<StoredEvent> events = List.of(event("\"" + "x".repeat(100) + "\""), event("\"small\""));
        Entries entries = array(events, 100, 50);
        assertThat(entries.count()).isEqualTo(1);
        assertThat(text(entries)).isEqualTo("[\"" + "x".repeat(100) + "\"]");
        assertThat(entries.body()).hasSize(104);
    }

    @Test
    void anEventTooLargeAfterOthersWaitsForTheNextBatch() {
        List<StoredEvent> events = List.of(event("\"small\""), event("\"" + "x".repeat(100) + "\""),
                event("\"small\""));
        Entries entries = array(events, 100, 50);
        assertThat(entries.count()).isEqualTo(1);
        assertThat(text(entries)).isEqualTo("[\"small\"]");
    }

    @Test
    void entriesAreCountedInUtf8Bytes() {
        // "é" is two bytes, so "éé" quoted is 6 bytes (4 characters): two of them take 2 + 6 + 1 + 6 = 15
        List<StoredEvent> events = List.of(event("\"éé\""), event("\"éé\""));
        assertThat(array(events, 100, 15).count()).isEqualTo(2);
        assertThat(array(events, 100, 14).count()).isEqualTo(1);
        assertThat(array(events, 100, 15).body()).hasSize(15);
    }

    @Test
    void newlineSeparatedEntriesWithoutBracketsCountOnlyTheSeparators() {
        // Splunk's format: 10 + 1 + 10 = 21 bytes for two entries
        assertThat(join(TEN_BYTES, "", "\n", "", 100, 21).count()).isEqualTo(2);
        assertThat(join(TEN_BYTES, "", "\n", "", 100, 20).count()).isEqualTo(1);
        assertThat(text(join(TEN_BYTES, "", "\n", "", 100, 21))).isEqualTo("\"aaaaaaaa\"\n\"bbbbbbbb\"");
    }

    @Test
    void theEntryFunctionShapesEachEntryAndItsSizeCounts() {
        Entries entries = Entries.join(TEN_BYTES, e -> "{\"m\":" + e.json() + "}", "[", ",", "]", 100, 35);
        // each entry is 16 bytes: 2 + 16 + 1 + 16 = 35
        assertThat(entries.count()).isEqualTo(2);
        assertThat(text(entries)).isEqualTo("[{\"m\":\"aaaaaaaa\"},{\"m\":\"bbbbbbbb\"}]");
    }

    @Test
    void noEventsIsAnEmptyArray() {
        Entries entries = array(List.of(), 100, 1000);
        assertThat(entries.count()).isZero();
        assertThat(text(entries)).isEqualTo("[]");
    }

    @Test
    void aThousandEntryBatchIsCutAtTheEntryLimit() {
        List<StoredEvent> many = new ArrayList<>();
        for (int i = 0; i < 1500; i++) {
            many.add(event("1"));
        }
        Entries entries = join(many, "", "\n", "", 1000, 1_000_000);
        assertThat(entries.count()).isEqualTo(1000);
        assertThat(entries.body()).hasSize(1999);
    }

    private static Entries array(List<StoredEvent> events, int maxEntries, long maxBytes) {
        return join(events, "[", ",", "]", maxEntries, maxBytes);
    }

    private static Entries join(List<StoredEvent> events, String open, String separator, String close,
                                int maxEntries, long maxBytes) {
        return Entries.join(events, StoredEvent::json, open, separator, close, maxEntries, maxBytes);
    }

    private static String text(Entries entries) {
        return new String(entries.body(), StandardCharsets.UTF_8);
    }

    private static StoredEvent event(String json) {
        Instant at = Instant.parse("2026-01-15T10:30:00Z");
        return new StoredEvent("1", 1, "01HQ", "user.signed_in", at, at, json);
    }
}
