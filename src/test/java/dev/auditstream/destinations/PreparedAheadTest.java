package dev.auditstream.destinations;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import dev.auditstream.api.Json;

/**
 * A batch read ahead gets its request built there only for destinations whose request is the events and the
 * stream's configuration alone, and the send then uses exactly that request; a destination with a clock or a token
 * in its request, or a request that cannot be built, is built at the send as before.
 */
class PreparedAheadTest {

    private static final Datadog DATADOG = new Datadog("http://127.0.0.1:9");
    private static final Destinations DESTINATIONS = new Destinations(null, 16, List.of(DATADOG,
            new Splunk(1_048_576, null, Duration.ofSeconds(20)), new GenericHttps(null)));
    private static final Batch BATCH = new Batch(List.of(event("01HZZZZZZZZZZZZZZZZZZZZZZ1"),
            event("01HZZZZZZZZZZZZZZZZZZZZZZ2")), new Batch.Position("770", 2), true);

    @Test
    void aDatadogBatchIsFormattedAndGzippedAheadAndSentAsBuilt() throws Exception {
        DeliveryTarget target = target("Datadog", Json.MAPPER.createObjectNode().put("apiKey", "dd-key"));
        Batch ahead = DESTINATIONS.preparedAhead(target, BATCH);

        assertThat(ahead.prepared()).isNotNull();
        assertThat(ahead.events()).isSameAs(BATCH.events());
        assertThat(ahead.scanned()).isEqualTo(BATCH.scanned());
        assertThat(ahead.prepared().request().body()).isEqualTo(DATADOG.prepare(target, BATCH.events()).request().body());
        assertThat(ahead.prepared().eventCount()).isEqualTo(2);
        assertThat(DESTINATIONS.prepare(target, ahead)).isSameAs(ahead.prepared());
    }

    @Test
    void aGenericHttpsBatchIsSignedAtItsSendNotAhead() {
        ObjectNode config = Json.MAPPER.createObjectNode().put("url", "https://siem.example.com/hook");
        config.put("signingSecret", new GenericHttps(null).generate().get("signingSecret"));
        assertThat(DESTINATIONS.preparedAhead(target("GenericHttps", config), BATCH)).isSameAs(BATCH);
    }

    @Test
    void aRequestThatCannotBeBuiltIsLeftToTheSendWhichFailsAsItself() {
        DeliveryTarget broken = target("Splunk", Json.MAPPER.createObjectNode().put("url", "not a url"));
        assertThat(DESTINATIONS.preparedAhead(broken, BATCH)).isSameAs(BATCH);
    }

    @Test
    void nothingIsBuiltForAnEmptyBatchOrWithoutATarget() {
        Batch empty = new Batch(List.of(), new Batch.Position("770", 3), false);
        DeliveryTarget target = target("Datadog", Json.MAPPER.createObjectNode().put("apiKey", "dd-key"));
        assertThat(DESTINATIONS.preparedAhead(target, empty)).isSameAs(empty);
        assertThat(DESTINATIONS.preparedAhead(null, BATCH)).isSameAs(BATCH);
    }

    private static DeliveryTarget target(String type, ObjectNode config) {
        return new DeliveryTarget("als_1", "org_1", type, config, 1);
    }

    private static StoredEvent event(String id) {
        Instant at = Instant.parse("2026-01-15T10:30:00Z");
        return new StoredEvent("770", 1, id, "user.signed_in", at, at,
                "{\"id\":\"" + id + "\",\"action\":\"user.signed_in\"}");
    }
}
