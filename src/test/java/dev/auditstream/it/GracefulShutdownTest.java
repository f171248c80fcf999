package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import dev.auditstream.support.ChildService;
import dev.auditstream.support.EventSender;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.TestJson;

/**
 * SIGTERM, as Kubernetes stops a pod: readiness goes down first while the API keeps serving, requests in flight
 * finish, later ones are refused cleanly, and nothing acknowledged is lost.
 */
class GracefulShutdownTest {

    private static final HttpClient HTTP_1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void sigtermWithRequestsInFlightStoresEveryAcknowledgedEventAndBreaksNoConnection() throws Exception {
        Path dataDir = RunningService.newDataDir("sigterm");
        String org;
        try (RunningService first = RunningService.start(dataDir)) {
            org = first.createOrganization("Sigterm Org");
        }
        List<EventSender> senders = new ArrayList<>();
        try (ChildService child = ChildService.start(dataDir, "sigterm",
                Map.of("AUDITSTREAM_SHUTDOWN_DRAIN_DELAY", "PT2S"))) {
            ExecutorService pool = Executors.newFixedThreadPool(24);
            List<Future<?>> clients = new ArrayList<>();
            for (HttpClient.Version version : HttpClient.Version.values()) {
                EventSender sender = new EventSender(child.uri("/audit_logs/events"), org, version);
                senders.add(sender);
                clients.addAll(sender.start(pool, 12, 100_000));
            }
            while (senders.stream().anyMatch(sender -> sender.acknowledged().size() < 300)) {
                Thread.sleep(20);
            }
            child.terminate();
            int acknowledgedAtSigterm = acknowledged(senders).size();
            // readiness goes down first, while the API still takes events
            child.awaitReadiness(503, 10);
            HttpResponse<String> whileDraining = postEvent(child, org, "after.sigterm");
            assertThat(whileDraining.statusCode()).isEqualTo(200);
            // so a keep-alive client's next request opens a connection to another instance
            assertThat(whileDraining.headers().firstValue("connection")).hasValue("close");
            // the clients stop by themselves once the instance refuses them
            for (Future<?> client : clients) {
                client.get(60, TimeUnit.SECONDS);
            }
            pool.shutdownNow();
            assertThat(child.awaitExit()).as("exit status after SIGTERM").isIn(0, 143);
            assertThat(acknowledged(senders).size()).as("events taken while draining")
                    .isGreaterThan(acknowledgedAtSigterm);
        }
        for (EventSender sender : senders) {
            assertThat(sender.failures()).as("answers other than 200 or 503, and broken connections").isEmpty();
        }
        try (RunningService restarted = RunningService.start(dataDir)) {
            assertThat(IngestionDurabilityTest.storedMarkers(restarted, org)).containsAll(acknowledged(senders));
            assertThat(restarted.count("SELECT count(*) FROM audit_event WHERE action = 'after.sigterm'")).isOne();
        }
    }

    @Test
    void aRequestInFlightFinishesWhileLaterOnesAreToldToRetry() throws Exception {
        Path dataDir = RunningService.newDataDir("sigterm-slow");
        Path config = Files.createDirectories(dataDir.resolve("config"));
        // a request that takes three seconds, still in flight when the routes stop
        Files.writeString(config.resolve("slow.yaml"), """
                - route:
                    id: slow
                    from:
                      uri: platform-http:/slow
                      steps:
                        - delay:
                            id: take-three-seconds
                            constant: 3000
                        - setBody:
                            id: answer-done
                            constant: done
                """);
        String org;
        try (RunningService first = RunningService.start(dataDir)) {
            org = first.createOrganization("Slow Org");
        }
        try (ChildService child = ChildService.start(dataDir, "sigterm-slow",
                Map.of("AUDITSTREAM_CONFIG_DIR", config.toString()))) {
            CompletableFuture<HttpResponse<String>> slow = HTTP_1.sendAsync(
                    HttpRequest.newBuilder(child.uri("/slow")).build(), HttpResponse.BodyHandlers.ofString());
            Thread.sleep(500);
            child.terminate();
            HttpResponse<String> refused;
            do {
                refused = postEvent(child, org, "while.stopping");
            } while (refused.statusCode() == 200 && !slow.isDone());
            assertThat(slow).as("the refusal came while the slow request was in flight").isNotDone();
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("retry-after")).hasValue("1");
            assertThat(TestJson.read(refused.body()).get("code").asText()).isEqualTo("shutting_down");
            assertThat(slow.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(slow.get().body()).isEqualTo("done");
            child.awaitExit();
        }
    }

    private static HttpResponse<String> postEvent(ChildService child, String org, String action) throws Exception {
        return HTTP_1.send(RunningService.authorized(HttpRequest.newBuilder(child.uri("/audit_logs/events")))
                .POST(HttpRequest.BodyPublishers.ofString(TestJson.event(org, action))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** What any of the senders got acknowledged. */
    private static Set<String> acknowledged(List<EventSender> senders) {
        Set<String> all = new HashSet<>();
        senders.forEach(sender -> all.addAll(sender.acknowledged()));
        return all;
    }
}
