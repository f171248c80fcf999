package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.builder.AdviceWith;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.auditstream.outbound.HostResolver;
import dev.auditstream.receivers.LoopbackReceiver;
import dev.auditstream.receivers.SplunkHec;
import dev.auditstream.delivery.DeliveryWorkers;
import dev.auditstream.support.EventSender;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;

/**
 * The delivery workers' lifecycle: a worker slot comes back whatever fails inside the service, a stream whose
 * configuration cannot be read goes invalid, and a drain whose claim was replaced (a change, a replay, a pause)
 * sends nothing more.
 */
class DeliveryLifecycleTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int WORKERS = 4;

    /** Answers for slow-dns.test only once the test lets it; everything else as the JVM resolves it. */
    private static final CountDownLatch DNS_ANSWERS = new CountDownLatch(1);
    private static final CountDownLatch DNS_ASKED = new CountDownLatch(1);
    private static final HostResolver RESOLVER = host -> {
        if (!host.equals("slow-dns.test")) {
            return InetAddress.getAllByName(host);
        }
        DNS_ASKED.countDown();
        try {
            DNS_ANSWERS.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return new InetAddress[] {InetAddress.getLoopbackAddress()};
    };

    private static RunningService service;
    private static StreamApi streams;
    private final List<SplunkHec> receivers = new ArrayList<>();
    private final List<String> created = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        service = RunningService.start(RunningService.newDataDir("delivery-lifecycle"), settings(
                "auditstream.allow-private-destinations", "true",
                "auditstream.delivery.workers", String.valueOf(WORKERS),
                "auditstream.delivery.max-batch", "10",
                "auditstream.delivery.lease", "PT3S",
                "auditstream.delivery.poll-interval", "50",
                "auditstream.delivery.backoff-base", "PT0.1S",
                "auditstream.delivery.backoff-max", "PT0.5S",
                "auditstream.db.pool-size", "6",
                "auditstream.delivery.stall-polls", "20",
                "auditstream.delivery.oldest-transaction-warning", "PT1S",
                "auditstream.delivery.observe-interval", "200",
                "auditstream.retention.purge-interval", "5000",
                "auditstream.db.connection-timeout", "PT1S"), Map.of("hostResolver", RESOLVER));
        streams = new StreamApi(service);
    }

    private static Map<String, String> settings(String... keysAndValues) {
        Map<String, String> settings = new java.util.HashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            settings.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return settings;
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    /** Each case's streams go, so none keeps a worker busy in the next case. */
    @AfterEach
    void deleteStreams() throws Exception {
        for (String id : created) {
            service.send(java.net.http.HttpRequest.newBuilder(service.uri("/log_streams/" + id)).DELETE());
        }
        receivers.forEach(LoopbackReceiver::close);
    }

    @Test
    void aStreamWhoseConfigCannotBeReadGoesInvalidAndEveryWorkerComesBack() throws Exception {
        Splunk broken = splunk("Undecryptable");
        Splunk unknown = splunk("Unknown type");
        Splunk healthy = splunk("Healthy");
        service.execute("UPDATE log_stream SET secrets = decode('00112233', 'hex') WHERE id = '" + broken.id + "'");
        service.execute("UPDATE log_stream SET type = 'Carrier pigeon' WHERE id = '" + unknown.id + "'");
        streams.send(broken.org, "lost", 3);
        streams.send(unknown.org, "lost", 3);
        streams.send(healthy.org, "kept", 3);

        JsonNode invalid = streams.awaitStream(broken.id, StreamApi.inState("invalid"), WAIT);
        assertThat(invalid.get("state_reason").asText()).contains("cannot read the stream's configuration");
        assertThat(streams.awaitStream(unknown.id, StreamApi.inState("invalid"), WAIT).get("state_reason").asText())
                .contains("Carrier pigeon");
        healthy.receiver.awaitEvents(3, WAIT);
        awaitAllWorkersFree();
        // the invalid streams wait for their slow probe: no claim every poll
        long claims = service.count("SELECT count(*) FROM log_stream WHERE lease_token IS NOT NULL AND id IN ('"
                + broken.id + "', '" + unknown.id + "')");
        Thread.sleep(500);
        assertThat(service.count("SELECT count(*) FROM log_stream WHERE lease_until > now() AND id IN ('"
                + broken.id + "', '" + unknown.id + "')")).isZero();
        assertThat(claims).isEqualTo(2);
    }

    @Test
    void aWorkerComesBackWhenThePoolIsExhaustedMidDrain() throws Exception {
        Splunk a = splunk("Pool");
        // the first request hangs; while it does, the test takes every connection of delivery's pool
        a.receiver.hangNext(1, Duration.ofSeconds(2));
        streams.send(a.org, "pool", 25);
        awaitRequests(a.receiver, 1);
        List<Connection> held = new ArrayList<>();
        try {
            while (true) {
                held.add(service.deliveryDataSource().getConnection());
            }
        } catch (java.sql.SQLException exhausted) {
            // every connection is the test's: the drain's cursor advance times out
        }
        try {
            // no claim poll gets through: delivery's health goes down (readiness is another check's)
            RunningService.await("delivery health is down", () -> deliveryHealth() == HealthCheck.State.DOWN);
        } finally {
            for (Connection c : held) {
                c.close();
            }
        }
        RunningService.await("delivery health is up again", () -> deliveryHealth() == HealthCheck.State.UP);
        assertThat(distinct(a.receiver)).isSubsetOf(markers("pool", 25));
        awaitDistinct(a.receiver, 25);
        awaitAllWorkersFree();
    }

    @Test
    void aWorkerComesBackWhenGivingTheLeaseBackFails() throws Exception {
        Splunk a = splunk("Release");
        service.execute("""
                CREATE OR REPLACE FUNCTION refuse_lease_release() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF OLD.lease_owner IS NOT NULL AND NEW.lease_owner IS NULL
                       AND NEW.lease_token IS NOT DISTINCT FROM OLD.lease_token THEN
                        RAISE EXCEPTION 'lease release refused for the test';
                    END IF;
                    RETURN NEW;
                END $$""");
        service.execute("CREATE TRIGGER refuse_lease_release BEFORE UPDATE ON log_stream FOR EACH ROW "
                + "EXECUTE FUNCTION refuse_lease_release()");
        try {
            streams.send(a.org, "release", 5);
            awaitDistinct(a.receiver, 5);
            awaitAllWorkersFree();
        } finally {
            service.execute("DROP TRIGGER refuse_lease_release ON log_stream");
        }
        // once its lease ran out, the stream is delivered again
        streams.send(a.org, "after", 2);
        awaitDistinct(a.receiver, 7);
    }

    @Test
    void aWorkerComesBackWhenTheHandOffFails() throws Exception {
        AtomicInteger refusals = new AtomicInteger(3);
        AdviceWith.adviceWith(service.context(), "claim-due-streams", route -> route.weaveById("hand-to-worker")
                .before().process(exchange -> {
                    if (refusals.getAndDecrement() > 0) {
                        throw new IllegalStateException("hand-off refused for the test");
                    }
                }));
        Splunk a = splunk("Hand-off");
        streams.send(a.org, "handoff", 5);
        awaitDistinct(a.receiver, 5);
        assertThat(refusals.get()).isNegative();
        awaitAllWorkersFree();
    }

    @Test
    void afterAUrlChangeTheOldDestinationGetsNothingAndTheNewOneEverythingFromTheCursor() throws Exception {
        Splunk a = splunk("Move");
        a.receiver.hangNext(1000, Duration.ofMillis(100));
        streams.send(a.org, "move", 60);
        awaitDistinctAtLeast(a.receiver, 20);
        SplunkHec moved = SplunkHec.start("tok-moved");
        receivers.add(moved);
        streams.patch(a.id, "{\"config\":{\"url\":\"" + moved.baseUrl() + "\",\"token\":\"tok-moved\"}}");
        Instant answered = Instant.now();

        RunningService.await("every event reached one of the two",
                () -> distinct(a.receiver, moved).size() == 60);
        Thread.sleep(300);
        // a request whose claim check passed just before the change committed may still arrive: the one in flight
        // at the change; after it the drain's fenced cursor move fails and it sends nothing more
        assertThat(a.receiver.requests().stream().filter(r -> r.arrivedAt().isAfter(answered)).count())
                .isLessThanOrEqualTo(1);
        Set<String> both = distinct(a.receiver);
        both.retainAll(distinct(moved));
        // at most the batch in flight at the change reached both
        assertThat(both.size()).isLessThanOrEqualTo(10);
        assertThat(moved.events().size()).isEqualTo(distinct(moved).size());
    }

    @Test
    void aReplayMidDrainIsDeliveredWholeAndNotUndoneByTheDrainBeforeIt() throws Exception {
        Splunk a = splunk("Replay");
        Instant before = Instant.now().minusSeconds(1);
        a.receiver.hangNext(1000, Duration.ofMillis(100));
        streams.send(a.org, "replay", 60);
        awaitDistinctAtLeast(a.receiver, 20);
        HttpResponse<String> replay = service.post("/log_streams/" + a.id + "/replay",
                "{\"from\":\"" + before + "\"}");
        assertThat(replay.statusCode()).as(replay.body()).isBetween(200, 204);
        int atReplay = a.receiver.events().size();

        long deadline = System.nanoTime() + WAIT.toNanos();
        Set<String> after = new HashSet<>();
        while (after.size() < 60 && System.nanoTime() < deadline) {
            List<JsonNode> events = a.receiver.events();
            after = new HashSet<>();
            for (JsonNode e : events.subList(Math.max(0, atReplay - 10), events.size())) {
                after.add(e.get("action").asText());
            }
            Thread.sleep(50);
        }
        assertThat(after).containsExactlyInAnyOrderElementsOf(markers("replay", 60));
    }

    @Test
    void afterAPauseNotOneMoreRequestGoesOut() throws Exception {
        Splunk a = splunk("Pause");
        a.receiver.hangNext(1000, Duration.ofMillis(100));
        streams.send(a.org, "pause", 60);
        awaitDistinctAtLeast(a.receiver, 20);
        streams.patch(a.id, "{\"state\":\"inactive\"}");
        Instant answered = Instant.now();
        List<String> whilePaused = streams.send(a.org, "paused", 5);
        Thread.sleep(1000);
        // a request whose claim check passed just before the change committed may still arrive: the one in flight
        // at the change (it may carry every event sent before the pause); after it the drain's fenced cursor move
        // fails and it sends nothing more
        assertThat(a.receiver.requests().stream().filter(r -> r.arrivedAt().isAfter(answered)).count())
                .isLessThanOrEqualTo(1);
        assertThat(distinct(a.receiver)).doesNotContainAnyElementsOf(whilePaused);
        awaitAllWorkersFree();
    }

    @Test
    void aRedriveWaitsForTheStreamsClaimAndSendsEachDeadLetterOnce() throws Exception {
        Splunk a = splunk("Redrive under claim");
        a.receiver.rejectEventsWithAction("poison.3");
        streams.send(a.org, "poison", 8);
        RunningService.await("the refused event was dead-lettered", () -> service.count(
                "SELECT count(*) FROM log_stream_delivery WHERE outcome = 'dead_lettered' AND stream_id = '"
                        + a.id + "'") == 1);
        a.receiver.recover();
        // a backlog drained slowly: the stream's claim is held while each batch is in flight
        a.receiver.hangNext(1000, Duration.ofMillis(100));
        streams.send(a.org, "backlog", 60);
        awaitDistinctAtLeast(a.receiver, 17);

        // two redrives at once, as two instances' API would take them
        CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> redrive(a.id));
        CompletableFuture<HttpResponse<String>> second = CompletableFuture.supplyAsync(() -> redrive(a.id));
        assertThat(first.get().statusCode()).as(first.get().body()).isEqualTo(202);
        assertThat(second.get().statusCode()).as(second.get().body()).isEqualTo(202);

        RunningService.await("the dead letter and the backlog arrived",
                () -> distinct(a.receiver).containsAll(markers("backlog", 60))
                        && distinct(a.receiver).contains("poison.3"));
        Thread.sleep(500);
        // one sender per stream at a time, the redrive included; the dead letter went out once
        assertThat(a.receiver.maxConcurrentRequests()).isEqualTo(1);
        assertThat(a.receiver.events()).filteredOn(e -> e.get("action").asText().equals("poison.3")).hasSize(1);
        assertThat(service.count("SELECT count(*) FROM log_stream_delivery WHERE stream_id = '" + a.id
                + "' AND outcome IN ('dead_lettered', 'redriving')")).isZero();
    }

    private static HttpResponse<String> redrive(String streamId) {
        try {
            return service.post("/log_streams/" + streamId + "/dead_letters/redrive", "");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aLongTransactionOnTheServerTurnsDeliveryHealthDownUntilItEnds() throws Exception {
        RunningService.await("delivery health is up", () -> deliveryHealth() == HealthCheck.State.UP);
        try (Connection c = service.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (var s = c.createStatement()) {
                s.execute("SELECT pg_current_xact_id()"); // holds a transaction id, as a writer does
            }
            // an event committed after it waits for it: the watermark is held back
            streams.send(service.createOrganization("Held back"), "held.back", 1);
            RunningService.await("delivery health is down", () -> deliveryHealth() == HealthCheck.State.DOWN);
            assertThat(service.gauge("auditstream.db.oldest.transaction.seconds")).isGreaterThanOrEqualTo(1);
            c.commit();
        }
        RunningService.await("delivery health is up again", () -> deliveryHealth() == HealthCheck.State.UP);
    }

    @Test
    void aFreshStreamIsDeliveredWhileEveryWorkerDrainsALastingBacklog() throws Exception {
        List<Splunk> backlogged = new ArrayList<>();
        for (int i = 0; i < WORKERS; i++) {
            Splunk slow = splunk("Backlog " + i);
            streams.patch(slow.id, "{\"state\":\"inactive\"}");
            assertThat(new EventSender(service.uri("/audit_logs/events"), slow.org).run(4, 50)).hasSize(200);
            // slow but succeeding: 20 batches of 10, each answered after 500 ms
            slow.receiver.hangNext(1000, Duration.ofMillis(500));
            backlogged.add(slow);
        }
        Splunk fresh = splunk("Fresh");
        for (Splunk slow : backlogged) {
            streams.patch(slow.id, "{\"state\":\"active\"}");
        }
        for (Splunk slow : backlogged) {
            awaitRequests(slow.receiver, 1);
        }
        assertThat(workers().freeSlots()).isZero();
        streams.send(fresh.org, "fresh", 1);

        fresh.receiver.awaitEvents(1, WAIT);
        // it did not wait for a backlog to drain: each one yielded its worker after its fair share
        for (Splunk slow : backlogged) {
            assertThat(slow.receiver.events().size()).isLessThan(200);
        }
    }

    @Test
    void aChangeWaitingForItsHostToResolveLocksNothing() throws Exception {
        Splunk a = splunk("Slow DNS");
        CompletableFuture<JsonNode> change = CompletableFuture.supplyAsync(() -> {
            try {
                return streams.patch(a.id, "{\"config\":{\"url\":\"http://slow-dns.test:"
                        + java.net.URI.create(a.receiver.baseUrl()).getPort() + "\",\"token\":\"tok-x\"}}");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(DNS_ASKED.await(30, TimeUnit.SECONDS)).isTrue();
        try (Connection c = service.dataSource().getConnection();
             var s = c.createStatement()) {
            // the stream's row is free, and no transaction of the service holds the delivery watermark back
            s.execute("SELECT 1 FROM log_stream WHERE id = '" + a.id + "' FOR UPDATE NOWAIT");
        } finally {
            DNS_ANSWERS.countDown();
        }
        assertThat(change.get(30, TimeUnit.SECONDS).at("/config/url").asText()).contains("slow-dns.test");
    }

    @Test
    void onePurgeRunEmptiesTheExpiredHistoryKeysAndStateChanges() throws Exception {
        Splunk a = splunk("Purge");
        service.execute("INSERT INTO log_stream_delivery (stream_id, organization_id, at, events, outcome, duration_ms) "
                + "SELECT '" + a.id + "', '" + a.org + "', now() - interval '8 days', 1, 'delivered', 1 "
                + "FROM generate_series(1, 50000)");
        service.execute("INSERT INTO log_stream_transition (stream_id, organization_id, from_state, to_state, at) "
                + "SELECT '" + a.id + "', '" + a.org + "', 'active', 'error', now() - interval '31 days' "
                + "FROM generate_series(1, 50000)");
        service.execute("INSERT INTO idempotency_key (key, request_hash, event_id, created_at) "
                + "SELECT 'purge-' || n, '\\x00', 'evt', now() - interval '25 hours' FROM generate_series(1, 50000) n");
        // one purge interval is 5 s; the old cap of 5,000 rows per run would need ten
        RunningService.await("the expired rows are gone", () ->
                service.count("SELECT count(*) FROM log_stream_delivery WHERE stream_id = '" + a.id + "'")
                        + service.count("SELECT count(*) FROM log_stream_transition WHERE stream_id = '" + a.id + "'")
                        + service.count("SELECT count(*) FROM idempotency_key WHERE key LIKE 'purge-%'") == 0);
    }

    @Test
    void deliveryHistoryTheDatabaseRefusedForAWhileIsWrittenLater() throws Exception {
        Splunk a = splunk("History");
        service.execute("""
                CREATE OR REPLACE FUNCTION refuse_history() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'history refused for the test'; END $$""");
        service.execute("CREATE TRIGGER refuse_history BEFORE INSERT ON log_stream_delivery FOR EACH ROW "
                + "EXECUTE FUNCTION refuse_history()");
        try {
            streams.send(a.org, "history", 3);
            awaitDistinct(a.receiver, 3);
            Thread.sleep(1000); // a flush or two fail meanwhile
        } finally {
            service.execute("DROP TRIGGER refuse_history ON log_stream_delivery");
        }
        RunningService.await("the delivery is in the history", () -> streams.deliveries(a.id).stream()
                .anyMatch(d -> d.get("outcome").asText().equals("delivered")));
    }

    // ---- helpers ----

    private static HealthCheck.State deliveryHealth() {
        return HealthCheckRegistry.get(service.context()).getCheck("delivery").orElseThrow().call().getState();
    }


    private record Splunk(String org, String id, SplunkHec receiver) {
    }

    /** An organization with one Splunk stream to a receiver of its own; events carry the marker as actor id. */
    private Splunk splunk(String name) throws Exception {
        String token = "tok-" + receivers.size();
        SplunkHec receiver = SplunkHec.start(token);
        receivers.add(receiver);
        String org = service.createOrganization(name);
        String id = streams.create(org, "Splunk", "{\"url\":\"" + receiver.baseUrl() + "\",\"token\":\"" + token
                + "\"}").get("id").asText();
        created.add(id);
        return new Splunk(org, id, receiver);
    }

    private static DeliveryWorkers workers() {
        return service.context().getRegistry().lookupByNameAndType("streamWorkers", DeliveryWorkers.class);
    }

    private static void awaitAllWorkersFree() throws Exception {
        RunningService.await("every worker slot is free again", () -> workers().freeSlots() == WORKERS);
    }

    private static void awaitRequests(LoopbackReceiver receiver, int n) throws Exception {
        RunningService.await(n + " requests arrived", () -> receiver.requestCount() >= n);
    }

    private static void awaitDistinctAtLeast(SplunkHec receiver, int n) throws Exception {
        RunningService.await(n + " distinct events arrived", () -> distinct(receiver).size() >= n);
    }

    private static void awaitDistinct(SplunkHec receiver, int n) throws Exception {
        RunningService.await(n + " distinct events arrived", () -> distinct(receiver).size() >= n);
    }

    /** The actions of the events the receivers accepted, each once. */
    private static Set<String> distinct(SplunkHec... receivers) {
        Set<String> actions = new HashSet<>();
        for (SplunkHec receiver : receivers) {
            receiver.events().forEach(e -> actions.add(e.get("action").asText()));
        }
        return actions;
    }

    /** The actions {@link StreamApi#send} gives. */
    private static Set<String> markers(String prefix, int count) {
        Set<String> actions = new HashSet<>();
        for (int i = 0; i < count; i++) {
            actions.add(prefix + "." + i);
        }
        return actions;
    }
}
