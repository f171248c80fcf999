package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.auditstream.receivers.SplunkHec;
import dev.auditstream.receivers.WebhookReceiver;
import dev.auditstream.support.EventSender;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;

/** Delivery while ingestion runs concurrently, and one stream's trouble never holding up another's. */
class StreamConcurrencyTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private static RunningService service;
    private static StreamApi streams;

    @BeforeAll
    static void start() throws Exception {
        service = RunningService.start(RunningService.newDataDir("stream-concurrency"), Map.of(
                "auditstream.allow-private-destinations", "true",
                "auditstream.delivery.poll-interval", "100",
                "auditstream.delivery.backoff-base", "PT0.2S",
                "auditstream.delivery.backoff-max", "PT1S",
                "auditstream.outbound.response-timeout", "PT20S",
                "auditstream.outbound.deadline", "PT25S"));
        streams = new StreamApi(service);
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    @Test
    void everyAcknowledgedEventArrivesExactlyOnceWhileEightWritersIngest() throws Exception {
        try (SplunkHec splunk = SplunkHec.start("tok-concurrent")) {
            String org = service.createOrganization("Concurrent Delivery");
            streams.create(org, "Splunk", "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"tok-concurrent\"}");

            Set<String> acknowledged = new EventSender(service.uri("/audit_logs/events"), org).run(8, 300);
            assertThat(acknowledged).hasSize(2400);

            List<JsonNode> received = splunk.awaitEvents(2400, WAIT);
            Thread.sleep(1000);
            List<String> markers = splunk.events().stream().map(e -> e.at("/actor/id").asText()).toList();
            assertThat(markers).hasSize(2400);
            assertThat(new HashSet<>(markers)).isEqualTo(acknowledged);
            assertThat(received).hasSizeGreaterThanOrEqualTo(2400);
            // each writer's events arrive in the order it sent them
            for (int client = 0; client < 8; client++) {
                String prefix = "c" + client + "-";
                List<Integer> order = markers.stream().filter(m -> m.startsWith(prefix))
                        .map(m -> Integer.parseInt(m.substring(prefix.length()))).toList();
                assertThat(order).isSorted();
            }
        }
    }

    @Test
    void aHangingOrRefusingDestinationDoesNotSlowAnotherOrganizationsStream() throws Exception {
        try (WebhookReceiver hanging = WebhookReceiver.start(WEBHOOK_SECRET);
             SplunkHec refusing = SplunkHec.start("right-token");
             SplunkHec healthy = SplunkHec.start("tok-healthy")) {
            hanging.hangNext(100, Duration.ofSeconds(15));
            String slowOrg = service.createOrganization("Hanging Destination");
            JsonNode slowStream = streams.create(slowOrg, "GenericHttps", "{\"url\":\"" + hanging.baseUrl() + "\"}");
            String badOrg = service.createOrganization("Refusing Destination");
            String badStream = streams.create(badOrg, "Splunk", "{\"url\":\"" + refusing.baseUrl()
                    + "\",\"token\":\"wrong-token\"}").get("id").asText();
            String goodOrg = service.createOrganization("Healthy Destination");
            streams.create(goodOrg, "Splunk", "{\"url\":\"" + healthy.baseUrl() + "\",\"token\":\"tok-healthy\"}");

            streams.send(slowOrg, "slow", 5);
            streams.send(badOrg, "bad", 5);
            Thread.sleep(500);
            for (int round = 0; round < 5; round++) {
                long start = System.nanoTime();
                streams.send(goodOrg, "good" + round, 1);
                healthy.awaitEvents(round + 1, Duration.ofSeconds(3));
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
            }
            assertThat(hanging.requestCount()).isGreaterThanOrEqualTo(1);
            // Splunk code 4 (invalid token): invalid, and probed slowly rather than retried
            JsonNode refused = streams.awaitStream(badStream, StreamApi.inState("invalid"), WAIT);
            assertThat(refused.get("state_reason").asText()).contains("code 4");
            assertThat(refusing.requestCount()).isEqualTo(1);
            assertThat(streams.get(slowStream.get("id").asText()).get("state").asText()).isEqualTo("active");
        }
    }

    private static final String WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
}
