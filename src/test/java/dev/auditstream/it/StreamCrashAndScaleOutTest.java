package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;

import dev.auditstream.receivers.SplunkHec;
import dev.auditstream.support.ChildService;
import dev.auditstream.support.EventSender;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/** A killed instance loses nothing it acknowledged; several instances on one database share streams safely. */
class StreamCrashAndScaleOutTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String SECRET_KEY = "q0X8s8wtoJsyK3m2n1wR3JqU8pR4cP9KkXvG0fYHh2Q=";

    @Test
    void killedMidDeliveryEveryEventArrivesAfterTheRestartDuplicatesOnlyFromTheBatchInFlight() throws Exception {
        Path dataDir = RunningService.newDataDir("delivery-crash");
        try (SplunkHec splunk = SplunkHec.start("tok-crash")) {
            String org;
            String streamId;
            try (RunningService first = RunningService.start(dataDir,
                    Map.of("auditstream.allow-private-destinations", "true"))) {
                org = first.createOrganization("Crash Org");
                StreamApi streams = new StreamApi(first);
                streamId = streams.create(org, "Splunk", "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"tok-crash\"}")
                        .get("id").asText();
                streams.patch(streamId, "{\"state\":\"inactive\"}");
                new EventSender(first.uri("/audit_logs/events"), org).run(8, 250);
            }
            Map<String, String> slow = Map.of(
                    "AUDITSTREAM_ALLOW_PRIVATE_DESTINATIONS", "true",
                    "AUDITSTREAM_DELIVERY_MAX_BATCH", "50",
                    "AUDITSTREAM_DELIVERY_POLL_INTERVAL", "100",
                    "AUDITSTREAM_DELIVERY_LEASE", "PT3S");
            splunk.hangNext(1000, Duration.ofMillis(30));
            try (ChildService child = ChildService.start(dataDir, "crashing", slow)) {
                HttpResponse<String> resumed = child.patch("/log_streams/" + streamId, "{\"state\":\"active\"}");
                assertThat(resumed.statusCode()).as(resumed.body()).isEqualTo(200);
                while (splunk.events().size() < 400) {
                    Thread.sleep(10);
                }
                child.kill();
            }
            int beforeRestart = splunk.events().size();
            assertThat(beforeRestart).isLessThan(2000);
            splunk.recover();

            try (RunningService restarted = RunningService.start(dataDir,
                    Map.of("auditstream.allow-private-destinations", "true", "auditstream.delivery.poll-interval", "100"))) {
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (distinctMarkers(splunk).size() < 2000 && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertThat(distinctMarkers(splunk)).hasSize(2000);
                Thread.sleep(500);
                // at-least-once: only the batch in flight at the kill (at most one batch of 50) came twice
                assertThat(splunk.events().size() - 2000).isBetween(0, 50);
            }
        }
    }

    @Test
    void twoInstancesDeliverEachEventOncePerStreamAndTakeOverAKilledOnesStreams() throws Exception {
        Path dataDir = RunningService.newDataDir("scale-out");
        List<SplunkHec> receivers = new ArrayList<>();
        Map<String, String> shared = Map.of(
                "auditstream.allow-private-destinations", "true",
                "auditstream.secret-key", SECRET_KEY,
                "auditstream.delivery.lease", "PT3S",
                "auditstream.delivery.poll-interval", "100");
        try (RunningService a = RunningService.start(dataDir, shared)) {
            String pgPort = Files.readAllLines(dataDir.resolve("postgres/postmaster.pid")).get(3).trim();
            List<String> orgs = new ArrayList<>();
            StreamApi streams = new StreamApi(a);
            for (int i = 0; i < 4; i++) {
                SplunkHec receiver = SplunkHec.start("tok-" + i);
                receivers.add(receiver);
                String org = a.createOrganization("Scale " + i);
                orgs.add(org);
                streams.create(org, "Splunk", "{\"url\":\"" + receiver.baseUrl() + "\",\"token\":\"tok-" + i + "\"}");
            }
            Map<String, String> asB = Map.of(
                    "AUDITSTREAM_DB_URL", "jdbc:postgresql://localhost:" + pgPort + "/postgres",
                    "AUDITSTREAM_DB_USER", "auditstream",
                    "AUDITSTREAM_SECRET_KEY", SECRET_KEY,
                    "AUDITSTREAM_ALLOW_PRIVATE_DESTINATIONS", "true",
                    "AUDITSTREAM_DELIVERY_LEASE", "PT3S",
                    "AUDITSTREAM_DELIVERY_POLL_INTERVAL", "100");
            Path dataB = RunningService.newDataDir("scale-out-b");
            try (ChildService b = ChildService.start(dataB, "instance-b", asB)) {
                // both instances ingest and both deliver
                for (String org : orgs) {
                    int acknowledged = new EventSender(a.uri("/audit_logs/events"), org).run(2, 50).size()
                            + new EventSender(b.uri("/audit_logs/events"), org).run(2, 50).size();
                    assertThat(acknowledged).isEqualTo(200);
                }
                for (int i = 0; i < orgs.size(); i++) {
                    receivers.get(i).awaitEvents(200, WAIT);
                }
                Thread.sleep(1000);
                for (int i = 0; i < orgs.size(); i++) {
                    List<JsonNode> events = receivers.get(i).events();
                    assertThat(events).as("stream %d exactly once", i).hasSize(200);
                    assertThat(events.stream().map(e -> e.get("id").asText()).distinct()).hasSize(200);
                }
                b.kill();
            }
            // after B died holding leases, A takes its streams over once the leases expire
            for (int i = 0; i < orgs.size(); i++) {
                new StreamApi(a).send(orgs.get(i), "after-kill", 3);
            }
            for (int i = 0; i < orgs.size(); i++) {
                List<JsonNode> events = receivers.get(i).awaitEvents(203, Duration.ofSeconds(30));
                assertThat(events.stream().filter(e -> e.get("action").asText().startsWith("after-kill"))).hasSize(3);
            }
        } finally {
            receivers.forEach(SplunkHec::close);
        }
    }

    @Test
    void aBatchSlowerThanTheLeaseKeepsItsClaimSoNoSecondInstanceSendsTheStream() throws Exception {
        Path dataDir = RunningService.newDataDir("slow-batch");
        Map<String, String> shared = Map.of(
                "auditstream.allow-private-destinations", "true",
                "auditstream.secret-key", SECRET_KEY,
                "auditstream.delivery.max-batch", "10",
                "auditstream.delivery.lease", "PT2S",
                "auditstream.delivery.poll-interval", "100");
        try (SplunkHec splunk = SplunkHec.start("tok-slow");
             RunningService a = RunningService.start(dataDir, shared)) {
            String org = a.createOrganization("Slow Org");
            String streamId = new StreamApi(a).create(org, "Splunk",
                    "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"tok-slow\"}").get("id").asText();
            new StreamApi(a).patch(streamId, "{\"state\":\"inactive\"}");
            new StreamApi(a).send(org, "slow", 20);
            String pgPort = Files.readAllLines(dataDir.resolve("postgres/postmaster.pid")).get(3).trim();
            try (ChildService b = ChildService.start(RunningService.newDataDir("slow-batch-b"), "instance-b", Map.of(
                    "AUDITSTREAM_DB_URL", "jdbc:postgresql://localhost:" + pgPort + "/postgres",
                    "AUDITSTREAM_DB_USER", "auditstream",
                    "AUDITSTREAM_SECRET_KEY", SECRET_KEY,
                    "AUDITSTREAM_ALLOW_PRIVATE_DESTINATIONS", "true",
                    "AUDITSTREAM_DELIVERY_MAX_BATCH", "10",
                    "AUDITSTREAM_DELIVERY_LEASE", "PT2S",
                    "AUDITSTREAM_DELIVERY_POLL_INTERVAL", "100"))) {
                // each request takes longer than the lease: the one drain renews it while it waits
                splunk.hangNext(100, Duration.ofMillis(3500));
                new StreamApi(a).patch(streamId, "{\"state\":\"active\"}");
                splunk.awaitEvents(20, WAIT);
                Thread.sleep(1000);
            }
            assertThat(splunk.maxConcurrentRequests()).isEqualTo(1);
            assertThat(splunk.events()).hasSize(20);
        }
    }

    @Test
    void aStoppedInstanceGivesItsStreamsBackAtOnce() throws Exception {
        Path dataDir = RunningService.newDataDir("lease-release");
        try (SplunkHec splunk = SplunkHec.start("tok-release");
             // this instance claims streams only once, just after it starts (no poll after it, no wake-up on
             // commit): the other one does the delivering
             RunningService a = RunningService.start(dataDir, Map.of(
                     "auditstream.allow-private-destinations", "true",
                     "auditstream.secret-key", SECRET_KEY,
                     "auditstream.delivery.poll-interval", "3600000",
                     "auditstream.delivery.wake-on-commit", "false"))) {
            String org = a.createOrganization("Release Org");
            new StreamApi(a).create(org, "Splunk", "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"tok-release\"}");
            String pgPort = Files.readAllLines(dataDir.resolve("postgres/postmaster.pid")).get(3).trim();
            splunk.hangNext(1, Duration.ofSeconds(3));
            try (ChildService b = ChildService.start(RunningService.newDataDir("lease-release-b"), "instance-b", Map.of(
                    "AUDITSTREAM_DB_URL", "jdbc:postgresql://localhost:" + pgPort + "/postgres",
                    "AUDITSTREAM_DB_USER", "auditstream",
                    "AUDITSTREAM_SECRET_KEY", SECRET_KEY,
                    "AUDITSTREAM_ALLOW_PRIVATE_DESTINATIONS", "true",
                    "AUDITSTREAM_DELIVERY_LEASE", "PT600S",
                    "AUDITSTREAM_DELIVERY_POLL_INTERVAL", "100"))) {
                new StreamApi(a).send(org, "released", 3);
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (a.count("SELECT count(*) FROM log_stream WHERE lease_owner IS NOT NULL") == 0
                        && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertThat(a.count("SELECT count(*) FROM log_stream WHERE lease_until > now() + interval '1 minute'"))
                        .isEqualTo(1);
                // SIGTERM while B is mid-send: it finishes the batch, then hands the stream back
            }
            assertThat(splunk.events()).hasSize(3);
            assertThat(a.count("SELECT count(*) FROM log_stream WHERE lease_owner IS NOT NULL")).isZero();
        }
    }

    @Test
    void threeInstancesOneKilledOneStoppedDeliverEveryEventInOrderDuplicatingOnlyTheKilledOnesBatch() throws Exception {
        Path dataDir = RunningService.emptyDataDir("three-instances");
        List<SplunkHec> receivers = new ArrayList<>();
        List<ChildService> instances = new ArrayList<>();
        // the database outlives every instance, as a managed PostgreSQL does
        try (EmbeddedPostgres database = EmbeddedPostgres.builder().setDataDirectory(dataDir.resolve("postgres"))
                .setCleanDataDirectory(true).start();
             AutoCloseable stopInstances = () -> {
                 for (ChildService instance : instances) {
                     instance.close();
                 }
             }) {
            Map<String, String> shared = Map.of(
                    "AUDITSTREAM_DB_URL", database.getJdbcUrl("postgres", "postgres"),
                    "AUDITSTREAM_DB_USER", "postgres",
                    "AUDITSTREAM_SECRET_KEY", SECRET_KEY,
                    "AUDITSTREAM_ALLOW_PRIVATE_DESTINATIONS", "true",
                    "AUDITSTREAM_DELIVERY_MAX_BATCH", "50",
                    // one stream per instance at a time, so the three streams spread over the three instances
                    "AUDITSTREAM_DELIVERY_WORKERS", "1",
                    "AUDITSTREAM_DELIVERY_LEASE", "PT3S",
                    "AUDITSTREAM_DELIVERY_POLL_INTERVAL", "100",
                    "AUDITSTREAM_SHUTDOWN_DRAIN_DELAY", "PT1S");
            for (String name : List.of("a", "b", "c")) {
                instances.add(ChildService.start(Files.createDirectories(dataDir.resolve(name)), name, shared));
            }
            ChildService a = instances.get(0);
            ChildService killed = instances.get(1);
            ChildService stopped = instances.get(2);

            List<String> orgs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                SplunkHec receiver = SplunkHec.start("tok-" + i);
                receiver.hangNext(100_000, Duration.ofMillis(20));
                receivers.add(receiver);
                HttpResponse<String> org = a.post("/organizations", "{\"name\":\"Three " + i + "\"}");
                assertThat(org.statusCode()).as(org.body()).isEqualTo(201);
                orgs.add(TestJson.read(org.body()).get("id").asText());
                HttpResponse<String> stream = a.post("/log_streams", "{\"organization_id\":\"" + orgs.get(i)
                        + "\",\"type\":\"Splunk\",\"config\":{\"url\":\"" + receiver.baseUrl()
                        + "\",\"token\":\"tok-" + i + "\"}}");
                assertThat(stream.statusCode()).as(stream.body()).isEqualTo(201);
            }

            // every instance ingests for every organization, each sender marking its events apart
            ExecutorService pool = Executors.newFixedThreadPool(18);
            List<List<EventSender>> sendersPerOrg = new ArrayList<>();
            List<Future<?>> clients = new ArrayList<>();
            for (String org : orgs) {
                List<EventSender> senders = new ArrayList<>();
                for (int n = 0; n < instances.size(); n++) {
                    EventSender sender = new EventSender(instances.get(n).uri("/audit_logs/events"), org,
                            HttpClient.Version.HTTP_1_1, "i" + n + "-c");
                    senders.add(sender);
                    clients.addAll(sender.start(pool, 2, 200));
                }
                sendersPerOrg.add(senders);
            }
            for (SplunkHec receiver : receivers) {
                receiver.awaitEvents(100, WAIT);
            }
            // each instance is delivering a stream when one is killed and another stopped
            try (Connection c = database.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                long deadline = System.nanoTime() + WAIT.toNanos();
                long owners = 0;
                while (owners < 3 && System.nanoTime() < deadline) {
                    try (ResultSet rs = s.executeQuery(
                            "SELECT count(DISTINCT lease_owner) FROM log_stream WHERE lease_until > now()")) {
                        rs.next();
                        owners = rs.getLong(1);
                    }
                    Thread.sleep(20);
                }
                assertThat(owners).as("instances holding a stream").isEqualTo(3);
            }
            killed.kill();
            Thread.sleep(1000);
            stopped.terminate();
            assertThat(stopped.awaitExit()).isIn(0, 143);
            for (Future<?> client : clients) {
                client.get(120, TimeUnit.SECONDS);
            }
            pool.shutdownNow();

            for (int i = 0; i < orgs.size(); i++) {
                Set<String> acknowledged = new HashSet<>();
                for (EventSender sender : sendersPerOrg.get(i)) {
                    assertThat(sender.acknowledged()).as("instance took events before it went").isNotEmpty();
                    acknowledged.addAll(sender.acknowledged());
                }
                SplunkHec receiver = receivers.get(i);
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (!distinctMarkers(receiver).containsAll(acknowledged) && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertThat(distinctMarkers(receiver)).as("stream %d delivered every acknowledged event", i)
                        .containsAll(acknowledged);
                Thread.sleep(500);
                List<String> arrived = receiver.events().stream().map(e -> e.at("/actor/id").asText()).toList();
                // at-least-once: only the batch the killed instance had in flight (at most one batch of 50) came twice
                assertThat(arrived.size() - new HashSet<>(arrived).size()).as("stream %d duplicates", i)
                        .isBetween(0, 50);
                assertInSendingOrder(arrived);
            }
        } finally {
            receivers.forEach(SplunkHec::close);
        }
    }

    /** Each client sent one event after another: their first arrivals keep that order. */
    private static void assertInSendingOrder(List<String> markers) {
        Map<String, Integer> lastPerClient = new HashMap<>();
        Set<String> seen = new HashSet<>();
        for (String marker : markers) {
            if (!seen.add(marker)) {
                continue;
            }
            int dash = marker.lastIndexOf('-');
            int n = Integer.parseInt(marker.substring(dash + 1));
            Integer previous = lastPerClient.put(marker.substring(0, dash), n);
            assertThat(previous == null || previous < n).as("%s arrived after a later event of its client", marker)
                    .isTrue();
        }
    }

    private static Set<String> distinctMarkers(SplunkHec splunk) {
        Set<String> markers = new HashSet<>();
        splunk.events().forEach(e -> markers.add(e.at("/actor/id").asText()));
        return markers;
    }
}
