package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.TestJson;

/**
 * Group commit stores the events of many requests, from any organization, with one statement. What one request sends
 * must not decide what happens to the others, and two batches must not lock each other out.
 */
class GroupCommitIsolationTest {

    private static RunningService service;
    private static ExecutorService clients;

    @BeforeAll
    static void start() throws Exception {
        // one writer, so the test knows which batch waits behind a lock; enough workers for 200 waiting requests
        service = RunningService.start(RunningService.newDataDir("group-commit"), Map.of(
                "auditstream.ingest.writers", "1",
                "auditstream.http.worker-threads", "256"));
        clients = Executors.newFixedThreadPool(200);
    }

    @AfterAll
    static void stop() {
        clients.shutdownNow();
        service.close();
    }

    @Test
    void anEventPostgresRefusesFailsAloneAmongTwoHundredRequestsOfFourOrganizations() throws Exception {
        List<String> orgs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            orgs.add(service.createOrganization("Batch " + i));
        }
        // an event validation lets through but PostgreSQL refuses, as a rule validation does not know yet would
        service.execute("ALTER TABLE audit_event ADD CONSTRAINT refuses_marked_actor "
                + "CHECK (actor_id <> 'refused-by-check') NOT VALID");
        List<Future<HttpResponse<String>>> responses = new ArrayList<>();
        try (Connection lock = service.dataSource().getConnection()) {
            lock.setAutoCommit(false);
            execute(lock, "LOCK TABLE audit_event IN SHARE MODE");
            // the writer's first batch waits behind the lock while the other 199 requests queue up for one batch
            responses.add(send(orgs.get(0), "actor-0", "isolation-0"));
            RunningService.await("the first batch waits", () -> writersWaitingFor("relation") == 1);
            for (int i = 1; i < 200; i++) {
                responses.add(send(orgs.get(i % 4), i == 100 ? "refused-by-check" : "actor-" + i, "isolation-" + i));
            }
            RunningService.await("200 requests wait", () -> service.gauge("auditstream.ingest.waiting") == 200);
            lock.commit();
        }

        for (int i = 0; i < 200; i++) {
            HttpResponse<String> response = responses.get(i).get();
            if (i == 100) {
                assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
                JsonNode error = TestJson.read(response.body()).get("errors").get(0);
                assertThat(error.get("field").asText()).isEqualTo("event");
                assertThat(error.get("code").asText()).isEqualTo("not_storable");
                assertThat(error.get("message").asText()).contains("refuses_marked_actor");
            } else {
                assertThat(response.statusCode()).as("request %d: %s", i, response.body()).isEqualTo(200);
            }
        }
        String stored = "FROM audit_event WHERE organization_id IN ('" + String.join("','", orgs) + "')";
        assertThat(service.count("SELECT count(*) " + stored)).isEqualTo(199);
        assertThat(service.count("SELECT count(DISTINCT actor_id) " + stored)).isEqualTo(199);
        assertThat(service.count("SELECT count(*) FROM idempotency_key WHERE key LIKE 'isolation-%'")).isEqualTo(199);
        service.execute("ALTER TABLE audit_event DROP CONSTRAINT refuses_marked_actor");
    }

    /**
     * Batches claim their keys in one order, so two batches sharing keys cannot each hold one the other waits for.
     * A batch queued with keys "order-b" then "order-a" must not claim "order-b" while it waits for "order-a".
     */
    @Test
    void aBatchClaimsItsIdempotencyKeysInOneOrderWhateverOrderTheyArrived() throws Exception {
        String org = service.createOrganization("Key Order");
        Future<HttpResponse<String>> first;
        Future<HttpResponse<String>> b;
        Future<HttpResponse<String>> a;
        try (Connection holder = service.dataSource().getConnection();
             Connection probe = service.dataSource().getConnection()) {
            try (Connection lock = service.dataSource().getConnection()) {
                lock.setAutoCommit(false);
                execute(lock, "LOCK TABLE audit_event IN SHARE MODE");
                first = send(org, "first", null);
                RunningService.await("the first batch waits", () -> writersWaitingFor("relation") == 1);
                b = send(org, "b", "order-b");
                RunningService.await("order-b is queued", () -> service.gauge("auditstream.ingest.waiting") == 2);
                a = send(org, "a", "order-a");
                RunningService.await("order-a is queued", () -> service.gauge("auditstream.ingest.waiting") == 3);
                // another transaction holds "order-a", so the batch [order-b, order-a] waits for it
                holder.setAutoCommit(false);
                execute(holder, "INSERT INTO idempotency_key (key, request_hash, event_id) VALUES ('order-a', '\\x00', 'x')");
                lock.commit();
            }
            assertThat(first.get().statusCode()).isEqualTo(200);
            RunningService.await("the batch waits for order-a", () -> writersWaitingFor("transactionid") == 1);

            probe.setAutoCommit(false);
            execute(probe, "SET LOCAL lock_timeout = '500ms'");
            // fails with "canceling statement due to lock timeout" if the waiting batch already claimed order-b
            execute(probe, "INSERT INTO idempotency_key (key, request_hash, event_id) VALUES ('order-b', '\\x00', 'x')");
            probe.rollback();
            holder.rollback();
        }
        assertThat(a.get().statusCode()).isEqualTo(200);
        assertThat(b.get().statusCode()).isEqualTo(200);
        assertThat(service.count("SELECT count(*) FROM audit_event WHERE organization_id = '" + org + "'")).isEqualTo(3);
    }

    private static Future<HttpResponse<String>> send(String org, String actor, String key) {
        String body = TestJson.event(org, "isolation.test").replace("\"user_456\"", "\"" + actor + "\"");
        // HTTP/1.1, a connection each: over HTTP/2 the server would take only 100 streams at once
        HttpRequest.Builder request = HttpRequest.newBuilder(service.uri("/audit_logs/events"))
                .version(HttpClient.Version.HTTP_1_1).POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            request.header("Idempotency-Key", key);
        }
        return clients.submit(() -> service.send(request));
    }

    /** Group-commit statements now waiting for a lock on a table ("relation") or on another transaction. */
    private static long writersWaitingFor(String lock) throws SQLException {
        return service.count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = '"
                + lock + "' AND query LIKE 'WITH claimed AS%'");
    }

    private static void execute(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }
}
