package dev.auditstream.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import org.junit.jupiter.api.Test;

import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;

/** The lease heartbeat against a real database: it extends the leases still held, never one given back meanwhile. */
class LeaseHeartbeatTest {

    @Test
    void aLeaseGivenBackWhileTheHeartbeatRunsStaysGivenBack() throws Exception {
        ScheduledExecutorService unused = Executors.newSingleThreadScheduledExecutor();
        try (RunningService service = RunningService.start(RunningService.newDataDir("lease-heartbeat"),
                Map.of("auditstream.allow-private-destinations", "true"))) {
            String org = service.createOrganization("Heartbeat Org");
            String id = new StreamApi(service).create(org, "GenericHttps", "{\"url\":\"https://127.0.0.1:9/hook\"}")
                    .get("id").asText();
            String token = UUID.randomUUID().toString();
            service.execute("UPDATE log_stream SET lease_token = '" + token + "', lease_until = now() + interval '30 s'"
                    + " WHERE id = '" + id + "'");
            DeliveryWorkers workers = new DeliveryWorkers(1, Duration.ofSeconds(30), Duration.ofSeconds(2), 20,
                    service.dataSource(),
                    new IdleStreams(service.dataSource(), 0, Duration.ofSeconds(1), () -> false), unused);
            DeliveryWorkers.Claim claim = workers.claimed(List.of(Map.of("id", id, "organization_id", org,
                    "token", token))).get(0);
            assertThat(workers.extend(Set.of(token))).containsExactly(token);

            // the heartbeat took the held tokens, then the drain ended and gave the lease back
            workers.release(claim);
            assertThat(workers.extend(Set.of(token))).isEmpty();
            assertThat(service.count("SELECT count(*) FROM log_stream WHERE id = '" + id
                    + "' AND lease_until IS NOT NULL")).isZero();
        } finally {
            unused.shutdownNow();
        }
    }
}
