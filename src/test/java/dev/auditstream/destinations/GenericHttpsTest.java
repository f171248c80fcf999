package dev.auditstream.destinations;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import dev.auditstream.api.Json;
import dev.auditstream.outbound.OutboundRequest;

/**
 * The Standard Webhooks headers of a GenericHttps request: the webhook-id receivers deduplicate on names one batch of
 * one stream, and during a signing secret rotation's overlap both secrets sign, then only the new one.
 */
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

    @Test
    void bothSecretsSignDuringTheOverlapAndOnlyTheNewOneAfterIt() throws Exception {
        ObjectNode config = Json.MAPPER.createObjectNode().put("url", "https://siem.example.com/hook");
        config.put("signingSecret", WEBHOOKS.generate().get("signingSecret"));
        String old = config.get("signingSecret").asText();

        String fresh = WEBHOOKS.rotateSecret(config, Instant.now().plus(Duration.ofHours(24)));
        OutboundRequest during = request(config);
        assertThat(header(during, "webhook-signature").split(" "))
                .containsExactly("v1," + signed(fresh, during), "v1," + signed(old, during));

        config.put("previousSigningSecretExpiresAt", "2024-01-01T00:00:00.000Z");
        OutboundRequest after = request(config);
        assertThat(header(after, "webhook-signature")).isEqualTo("v1," + signed(fresh, after));
    }

    @Test
    void aRequestCarriesAtMostTheStreamsBatchBytesAndOneMegabyteByDefault() throws Exception {
        List<StoredEvent> large = java.util.stream.IntStream.range(0, 1000)
                .mapToObj(i -> event(String.format("01HZZZZZZZZZZZZZZZZZZZ%04d", i), "x".repeat(1200))).toList();
        Outbound byDefault = WEBHOOKS.prepare(target("stream_a"), large);
        assertThat(byDefault.request().body().length).isLessThanOrEqualTo(1024 * 1024).isGreaterThan(1000 * 1024);
        assertThat(byDefault.eventCount()).isLessThan(1000);

        ObjectNode config = target("stream_a").config().deepCopy().put("maxBatchBytes", 4096);
        Outbound bounded = WEBHOOKS.prepare(new DeliveryTarget("stream_a", "org_1", "GenericHttps", config, 1), large);
        assertThat(bounded.request().body().length).isLessThanOrEqualTo(4096);
        assertThat(bounded.eventCount()).isBetween(1, 3);
        // the webhook-id names the events the request carries
        assertThat(header(bounded.request(), "webhook-id")).endsWith("_" + bounded.eventCount());
    }

    private static String signed(String secret, OutboundRequest request) {
        return GenericHttps.sign(secret, header(request, "webhook-id"), header(request, "webhook-timestamp"),
                request.body());
    }

    private static OutboundRequest request(ObjectNode config) throws Exception {
        return WEBHOOKS.prepare(new DeliveryTarget("als_1", "org_1", "GenericHttps", config, 1), EVENTS.subList(0, 1))
                .request();
    }

    private static String webhookId(DeliveryTarget target, List<StoredEvent> events) throws Exception {
        return header(WEBHOOKS.prepare(target, events).request(), "webhook-id");
    }

    private static String header(OutboundRequest request, String name) {
        return request.headers().stream().filter(h -> h.name().equals(name)).findFirst().orElseThrow().value();
    }

    private static DeliveryTarget target(String streamId) {
        return new DeliveryTarget(streamId, "org_1", "GenericHttps", Json.MAPPER.createObjectNode()
                .put("url", "https://hooks.example.com/in").put("signingSecret", "whsec_c2VjcmV0"), 1);
    }

    private static StoredEvent event(String id) {
        return event(id, "");
    }

    private static StoredEvent event(String id, String padding) {
        Instant at = Instant.parse("2024-01-15T10:30:00Z");
        return new StoredEvent("100", 1, id, "user.signed_in", at, at,
                "{\"id\":\"" + id + "\",\"metadata\":{\"note\":\"" + padding + "\"}}");
    }
}
