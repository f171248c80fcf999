package dev.auditstream.destinations;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import dev.auditstream.api.Json;
import dev.auditstream.outbound.OutboundRequest;

/** A rotation's overlap: both secrets sign until it ends, then only the new one. */
class GenericHttpsSignaturesTest {

    private final GenericHttps https = new GenericHttps(null);
    private final StoredEvent event = new StoredEvent("1", 1, "01HZZZZZZZZZZZZZZZZZZZZZZZ", "user.signed_in",
            Instant.parse("2024-01-15T10:30:00Z"), Instant.parse("2024-01-15T10:30:01Z"), "{\"id\":\"e\"}");

    @Test
    void bothSecretsSignDuringTheOverlapAndOnlyTheNewOneAfterIt() throws Exception {
        ObjectNode config = Json.MAPPER.createObjectNode().put("url", "https://siem.example.com/hook");
        config.put("signingSecret", https.generate().get("signingSecret"));
        String old = config.get("signingSecret").asText();

        String fresh = https.rotateSecret(config, Instant.now().plus(Duration.ofHours(24)));
        OutboundRequest during = request(config);
        assertThat(header(during, "webhook-signature").split(" "))
                .containsExactly("v1," + signed(fresh, during), "v1," + signed(old, during));

        config.put("previousSigningSecretExpiresAt", "2024-01-01T00:00:00.000Z");
        OutboundRequest after = request(config);
        assertThat(header(after, "webhook-signature")).isEqualTo("v1," + signed(fresh, after));
    }

    private static String signed(String secret, OutboundRequest request) {
        return GenericHttps.sign(secret, header(request, "webhook-id"), header(request, "webhook-timestamp"),
                request.body());
    }

    private OutboundRequest request(ObjectNode config) throws Exception {
        return https.prepare(new DeliveryTarget("als_1", "org_1", "GenericHttps", config, 1), List.of(event))
                .request();
    }

    private static String header(OutboundRequest request, String name) {
        return request.headers().stream().filter(h -> h.name().equals(name)).findFirst().orElseThrow().value();
    }
}
