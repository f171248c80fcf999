package dev.auditstream.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;

/**
 * The claim against a real database, with the service's own passes out of the way (no wake-ups, an hourly poll):
 * busy streams are claimed in turn, and a drain that reached its organization's head marks its stream as it gives
 * the lease back, only with nothing after the cursor.
 */
class ClaimOrderTest {

    private static final long IDLE_LOCK = 72070099;

    private static RunningService service;
    private static StreamApi streams;
    private static ScheduledExecutorService unused;

    @BeforeAll
    static void start() throws Exception {
        service = RunningService.start(RunningService.newDataDir("claim-order"),
                RunningService.withoutOwnClaims(Map.of("auditstream.allow-private-destinations", "true")));
        streams = new StreamApi(service);
        unused = Executors.newSingleThreadScheduledExecutor();
        // the poll's first pass runs a second after the start: it must find nothing to claim
        Thread.sleep(1_500);
    }

    @AfterAll
    static void stop() {
        unused.shutdownNow();
        service.close();
    }

    @Test
    void aReleasedStreamWaitsBehindTheOthersThatAreDue() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String org = service.createOrganization("Turns Org " + i);
            String id = stream(org);
            streams.send(org, "turn", 1);
            // the first stream has waited longest
            service.execute("UPDATE log_stream SET next_attempt_at = now() - interval '" + (10 - i) + " minutes'"
                    + " WHERE id = '" + id + "'");
            ids.add(id);
        }
        DeliveryWorkers workers = workers(() -> false);

        DeliveryWorkers.Claim first = workers.claim(1).get(0);
        assertThat(first.streamId()).isEqualTo(ids.get(0));
        workers.release(first);
        // still with events after its cursor, but due again only from its release: the others first
        assertThat(workers.claim(1)).extracting(DeliveryWorkers.Claim::streamId).containsExactly(ids.get(1));
        assertThat(workers.claim(1)).extracting(DeliveryWorkers.Claim::streamId).containsExactly(ids.get(2));
        // then its turn comes again
        assertThat(workers.claim(10)).extracting(DeliveryWorkers.Claim::streamId).contains(ids.get(0));
    }

    @Test
    void aDrainAtItsHeadMarksItsStreamCaughtUpOnlyWithNothingAfterItsCursor() throws Exception {
        DeliveryWorkers workers = workers(() -> true);
        String quietOrg = service.createOrganization("Quiet Org");
        String quiet = stream(quietOrg);
        String busyOrg = service.createOrganization("Busy Org");
        String busy = stream(busyOrg);
        streams.send(busyOrg, "late", 1);

        // claims as a pass would have made them, each drain having found nothing below the watermark
        List<DeliveryWorkers.Claim> claims = workers.claimed(List.of(
                leased(quiet, quietOrg), leased(busy, busyOrg)));
        for (DeliveryWorkers.Claim claim : claims) {
            workers.reachedHead(claim);
            workers.release(claim);
        }
        assertThat(service.count("SELECT count(*) FROM log_stream WHERE id = '" + quiet + "' AND caught_up"))
                .isOne();
        // an event after the cursor (one the drain did not see) keeps the stream looked at
        assertThat(service.count("SELECT count(*) FROM log_stream WHERE id = '" + busy + "' AND NOT caught_up"))
                .isOne();
    }

    private static String stream(String org) throws Exception {
        return streams.create(org, "GenericHttps", "{\"url\":\"https://127.0.0.1:9/hook\"}").get("id").asText();
    }

    /** The stream leased under a new token, as the claim query leaves it. */
    private static Map<String, Object> leased(String id, String org) throws Exception {
        String token = UUID.randomUUID().toString();
        service.execute("UPDATE log_stream SET lease_token = '" + token + "', lease_until = now() + interval '30 s'"
                + " WHERE id = '" + id + "'");
        return Map.of("id", id, "organization_id", org, "token", token);
    }

    private static DeliveryWorkers workers(BooleanSupplier listening) {
        return new DeliveryWorkers(4, Duration.ofSeconds(30), Duration.ofSeconds(2), 20, service.deliveryDataSource(),
                new IdleStreams(service.deliveryDataSource(), IDLE_LOCK, Duration.ofSeconds(1), listening), unused);
    }
}
