package dev.auditstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** What was acknowledged is stored: under concurrency, across a clean restart and across a killed process. */
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

        int port = 18000 + (int) (ProcessHandle.current().pid() % 1000);
        Process child = startChild(dataDir, port);
        try {
            awaitReady(port + 1);
            EventSender sender = new EventSender(URI.create("http://localhost:" + port + "/audit_logs/events"),
                    org);
            ExecutorService pool = Executors.newFixedThreadPool(16);
            List<Future<?>> clients = sender.start(pool, 16, 100_000);
            // kill while requests are in flight, once some have been acknowledged
            while (sender.acknowledged().size() < 500) {
                Thread.sleep(20);
            }
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
            sender.stop();
            for (Future<?> client : clients) {
                client.get(60, TimeUnit.SECONDS);
            }
            pool.shutdownNow();
            acknowledged = new HashSet<>(sender.acknowledged());
        } finally {
            child.destroyForcibly();
        }

        try (RunningService restarted = RunningService.start(dataDir)) {
            assertThat(storedMarkers(restarted, org)).containsAll(acknowledged);
        }
    }

    /** The service in its own JVM (same classes and routes), so it can be killed with SIGKILL. */
    private static Process startChild(Path dataDir, int port) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                AuditStream.class.getName());
        builder.environment().putAll(Map.of(
                "AUDITSTREAM_HTTP_PORT", String.valueOf(port),
                "AUDITSTREAM_MANAGEMENT_PORT", String.valueOf(port + 1),
                "AUDITSTREAM_DATA_DIR", dataDir.toString(),
                "AUDITSTREAM_API_KEYS", RunningService.API_KEY));
        builder.redirectErrorStream(true).redirectOutput(new File(dataDir.toFile(), "child.log"));
        return builder.start();
    }

    private static void awaitReady(int managementPort) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> ready = RunningService.sendRaw(HttpRequest.newBuilder(
                        URI.create("http://localhost:" + managementPort + "/observe/health/ready")).build());
                if (ready.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(200);
        }
        throw new AssertionError("service did not become ready");
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
