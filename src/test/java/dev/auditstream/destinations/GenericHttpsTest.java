package dev.auditstream.destinations;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.auditstream.api.Json;
import dev.auditstream.outbound.OutboundRequest;

/** The webhook-id receivers deduplicate on names one batch of one stream. */
class GenericHttpsTest {

    private static final GenericHttps WEBHOOKS = new GenericHttps(null);
    private static final List<StoredEvent> EVENTS = List.of(event("01HZZZZZZZZZZZZZZZZZZZZZZ1"),
            event("01HZZZZZZZZZZZZZZZZZZZZZZ2"));

    @Test
    void twoStreamsSendingTheSameEventsToOneReceiverUseDifferentIds() throws Exception {
        assertThat(webhookId(target("stream_a"), EVENTS)).isNotEqualTo(webhookId(target("stream_b"), EVENTS));
    }

    @Test
    void aRetryOfTheSameBatchKeepsItsIdAndAnotherBatchGetsAnother() throws Exception {
        String first = webhookId(target("stream_a"), EVENTS);
        assertThat(webhookId(target("stream_a"), EVENTS)).isEqualTo(first);
        assertThat(webhookId(target("stream_a"), EVENTS.subList(0, 1))).isNotEqualTo(first);
        assertThat(first).startsWith("msg_").contains("stream_a").contains("01HZZZZZZZZZZZZZZZZZZZZZZ1");
    }

    private static String webhookId(DeliveryTarget target, List<StoredEvent> events) throws Exception {
        OutboundRequest request = WEBHOOKS.prepare(target, events).request();
        return request.headers().stream().filter(h -> h.name().equals("webhook-id")).findFirst().orElseThrow().value();
    }

    private static DeliveryTarget target(String streamId) {
        return new DeliveryTarget(streamId, "org_1", "GenericHttps", Json.MAPPER.createObjectNode()
                .put("url", "https://hooks.example.com/in").put("signingSecret", "whsec_c2VjcmV0"), 1);
    }

    private static StoredEvent event(String id) {
        Instant at = Instant.parse("2024-01-15T10:30:00Z");
        return new StoredEvent("100", 1, id, "user.signed_in", at, at, "{\"id\":\"" + id + "\"}");
    }
}
