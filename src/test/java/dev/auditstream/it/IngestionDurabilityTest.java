package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

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
import dev.auditstream.support.ChildService;
import dev.auditstream.support.EventSender;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.TestJson;

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

    static Set<String> storedMarkers(RunningService service, String org) throws Exception {
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
