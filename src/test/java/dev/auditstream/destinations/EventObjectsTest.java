package dev.auditstream.destinations;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Base64;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The object an event is stored as: its key, fixed by stream and event, its pretty body and that body's MD5. */
class EventObjectsTest {

    private static final String STREAM = "stream_01HQ";
    /** The first 6 bytes of SHA-256("stream_01HQ:event_01HQX"), in hex. */
    private static final String SUFFIX = "55edc20ef334";
    /** Accepted just before midnight UTC, occurred the day before: the key follows acceptance. */
    private static final StoredEvent EVENT = new StoredEvent("77", 3, "event_01HQX", "user.signed_in",
            Instant.parse("2026-01-14T08:00:00Z"), Instant.parse("2026-01-15T23:59:59.5Z"),
            "{\"id\":\"event_01HQX\",\"action\":\"user.signed_in\",\"actor\":{\"id\":\"u_1\"},\"n\":1.5}");
    private static final String PRETTY = """
            {
              "id" : "event_01HQX",
              "action" : "user.signed_in",
              "actor" : {
                "id" : "u_1"
              },
              "n" : 1.5
            }""";

    @Test
    void s3KeysHaveTheDayFolder() {
        assertThat(EventObjects.of(STREAM, EVENT, null, true).key())
                .isEqualTo("2026-01-15/2026-01-15T23:59:59.500Z_" + SUFFIX + ".json");
    }

    @Test
    void gcsKeysHaveNoDayFolder() {
        assertThat(EventObjects.of(STREAM, EVENT, null, false).key())
                .isEqualTo("2026-01-15T23:59:59.500Z_" + SUFFIX + ".json");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "audit|audit/",
            "/audit|audit/",
            "audit/|audit/",
            "//audit//|audit/",
            "audit/logs/prod|audit/logs/prod/",
            "/audit/logs/|audit/logs/",
    })
    void theBucketPathComesFirstWithItsOuterSlashesTrimmed(String bucketPath, String prefix) {
        assertThat(EventObjects.of(STREAM, EVENT, bucketPath, true).key())
                .isEqualTo(prefix + "2026-01-15/2026-01-15T23:59:59.500Z_" + SUFFIX + ".json");
        assertThat(EventObjects.of(STREAM, EVENT, bucketPath, false).key())
                .isEqualTo(prefix + "2026-01-15T23:59:59.500Z_" + SUFFIX + ".json");
    }

    @Test
    void aBlankBucketPathIsNoPrefix() {
        String key = "2026-01-15/2026-01-15T23:59:59.500Z_" + SUFFIX + ".json";
        assertThat(EventObjects.of(STREAM, EVENT, "", true).key()).isEqualTo(key);
        assertThat(EventObjects.of(STREAM, EVENT, "   ", true).key()).isEqualTo(key);
        assertThat(EventObjects.of(STREAM, EVENT, "///", true).key()).isEqualTo(key);
    }

    @Test
    void theKeyIsTheSameEveryTimeAndDiffersByStreamAndEvent() {
        assertThat(EventObjects.of(STREAM, EVENT, "p", true).key())
                .isEqualTo(EventObjects.of(STREAM, EVENT, "p", true).key());
        assertThat(EventObjects.of("stream_other", EVENT, "p", true).key())
                .isNotEqualTo(EventObjects.of(STREAM, EVENT, "p", true).key());
        StoredEvent other = new StoredEvent("77", 4, "event_other", "user.signed_in", EVENT.occurredAt(),
                EVENT.acceptedAt(), EVENT.json());
        assertThat(EventObjects.of(STREAM, other, "p", true).key())
                .isNotEqualTo(EventObjects.of(STREAM, EVENT, "p", true).key());
    }

    @Test
    void millisecondsAreAlwaysThreeDigits() {
        StoredEvent onTheSecond = new StoredEvent("77", 3, "event_01HQX", "a", EVENT.occurredAt(),
                Instant.parse("2026-03-01T00:00:00Z"), "{}");
        assertThat(EventObjects.of(STREAM, onTheSecond, null, true).key())
                .isEqualTo("2026-03-01/2026-03-01T00:00:00.000Z_" + SUFFIX + ".json");
    }

    @Test
    void theBodyIsTheEventPrettyPrintedAndItsMd5IsTheBase64Digest() throws Exception {
        EventObjects object = EventObjects.of(STREAM, EVENT, null, true);
        assertThat(new String(object.body(), StandardCharsets.UTF_8)).isEqualTo(PRETTY);
        assertThat(object.contentMd5()).isEqualTo("n9kEwWP7rl5UPIC4+fRDLg==");
        assertThat(object.contentMd5()).isEqualTo(
                Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(object.body())));
    }

    @Test
    void theBodyDoesNotDependOnTheKeyLayout() {
        assertThat(EventObjects.of(STREAM, EVENT, "a/b", false).body())
                .isEqualTo(EventObjects.of(STREAM, EVENT, null, true).body());
        assertThat(EventObjects.of(STREAM, EVENT, "a/b", false).contentMd5()).isEqualTo("n9kEwWP7rl5UPIC4+fRDLg==");
    }

    @Test
    void slashesAreTrimmedOnlyAtTheEnds() {
        assertThat(EventObjects.trimSlashes("/a//b/")).isEqualTo("a//b");
        assertThat(EventObjects.trimSlashes("///")).isEmpty();
        assertThat(EventObjects.trimSlashes("")).isEmpty();
        assertThat(EventObjects.trimSlashes("a")).isEqualTo("a");
    }
}
