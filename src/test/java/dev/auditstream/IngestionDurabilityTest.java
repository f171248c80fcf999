package dev.auditstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * What was acknowledged is stored: under concurrency, across a clean restart, a SIGTERM with requests in flight and a
 * killed process.
 */
class IngestionDurabilityTest {

    @Test
    void fiftyClientsTimesTwoHundredEventsStoreExactlyTenThousandRows() throws Exception {
        try (RunningService service = RunningService.start(RunningService.newDataDir("concurrency"))) {
            String org = service.createOrganization("Concurrent Org");

            Set<String> acknowledged = new EventSender(service.uri("/audit_logs/events"), org).run(50, 200);

            assertThat(acknowledged).hasSize(10_000);
            assertThat(service.count("SELECT count(*) FROM audit_event WHERE organization_id = '" + org + "'"))
                    .isEqualTo(10_000);
            assertThat(storedMarkers(service, org)).isEqualTo(acknowledged);
            assertThat(service.count("SELECT count(DISTINCT id) FROM audit_event")).isEqualTo(10_000);
        }
    }

    @Test
    void eventsAcknowledgedBeforeAStopAreThereAfterARestart() throws Exception {
        try (RunningService service = RunningService.start(RunningService.newDataDir("restart"))) {
            String org = service.createOrganization("Restart Org");
            Set<String> acknowledged = new EventSender(service.uri("/audit_logs/events"), org).run(8, 50);
            assertThat(acknowledged).hasSize(400);

            service.restart();

            assertThat(storedMarkers(service, org)).isEqualTo(acknowledged);
            HttpResponse<String> after = service.post("/audit_logs/events", TestJson.event(org, "after.restart"));
            assertThat(after.statusCode()).isEqualTo(200);
        }
    }

    @Test
    void eventsAcknowledgedBeforeTheProcessIsKilledAreThereAfterAStart() throws Exception {
        Path dataDir = RunningService.newDataDir("killed");
        String org;
        Set<String> acknowledged;
        try (RunningService first = RunningService.start(dataDir)) {
            org = first.createOrganization("Killed Org");
        }

        try (ChildService child = ChildService.start(dataDir, "killed", Map.of())) {
            EventSender sender = new EventSender(child.uri("/audit_logs/events"), org);
            ExecutorService pool = Executors.newFixedThreadPool(16);
            List<Future<?>> clients = sender.start(pool, 16, 100_000);
            // kill while requests are in flight, once some have been acknowledged
            while (sender.acknowledged().size() < 500) {
                Thread.sleep(20);
            }
            child.kill();
            sender.stop();
            for (Future<?> client : clients) {
                client.get(60, TimeUnit.SECONDS);
            }
            pool.shutdownNow();
            acknowledged = new HashSet<>(sender.acknowledged());
        }

        try (RunningService restarted = RunningService.start(dataDir)) {
            assertThat(storedMarkers(restarted, org)).containsAll(acknowledged);
        }
    }

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
            awaitStatus(child.managementUri("/observe/health/ready"), 503);
            HttpResponse<String> whileDraining = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                    .send(HttpRequest.newBuilder(child.uri("/audit_logs/events"))
                            .header("Authorization", "Bearer " + RunningService.API_KEY)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(TestJson.event(org, "after.sigterm"))).build(),
                            HttpResponse.BodyHandlers.ofString());
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
            assertThat(storedMarkers(restarted, org)).containsAll(acknowledged(senders));
            assertThat(restarted.count("SELECT count(*) FROM audit_event WHERE action = 'after.sigterm'")).isOne();
        }
    }

    /** What any of the senders got acknowledged. */
    private static Set<String> acknowledged(List<EventSender> senders) {
        Set<String> all = new HashSet<>();
        senders.forEach(sender -> all.addAll(sender.acknowledged()));
        return all;
    }

    private static void awaitStatus(URI uri, int status) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int last = 0;
        while (System.nanoTime() < deadline) {
            last = RunningService.sendRaw(HttpRequest.newBuilder(uri).build()).statusCode();
            if (last == status) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError(uri + " answered " + last + ", not " + status);
    }

    private static Set<String> storedMarkers(RunningService service, String org) throws Exception {
        Set<String> markers = new HashSet<>();
        try (Connection c = service.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT actor_id FROM audit_event WHERE organization_id = ? AND action = 'load.test'")) {
            ps.setString(1, org);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    markers.add(rs.getString(1));
                }
            }
        }
        return markers;
    }
}
