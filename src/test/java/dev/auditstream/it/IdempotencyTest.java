package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.TestJson;

/** Idempotency-Key: within 24 hours a repeat answers like the first request and stores nothing new. */
class IdempotencyTest {

    private static RunningService service;
    private static String org;

    @BeforeAll
    static void start() throws Exception {
        service = RunningService.start(RunningService.newDataDir("idempotency"));
        org = service.createOrganization("Idempotent Org");
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    @Test
    void concurrentDuplicatesWithOneKeyStoreExactlyOneEvent() throws Exception {
        String body = TestJson.event(org, "concurrent.duplicate");
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            List<Callable<HttpResponse<String>>> requests = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                requests.add(() -> service.post("/audit_logs/events", body, "key-concurrent"));
            }
            for (Future<HttpResponse<String>> response : pool.invokeAll(requests)) {
                assertThat(response.get().statusCode()).as(response.get().body()).isEqualTo(200);
                assertThat(response.get().body()).isEqualTo("{\"success\":true}");
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(countOf("concurrent.duplicate")).isEqualTo(1);
        assertThat(service.count("SELECT count(*) FROM idempotency_key WHERE key = 'key-concurrent'")).isEqualTo(1);
    }

    @Test
    void sameKeyWithAnotherBodyIs400AndStoresNothing() throws Exception {
        assertThat(service.post("/audit_logs/events", TestJson.event(org, "first.body"), "key-reused").statusCode())
                .isEqualTo(200);

        HttpResponse<String> second = service.post("/audit_logs/events", TestJson.event(org, "second.body"), "key-reused");

        assertThat(second.statusCode()).isEqualTo(400);
        JsonNode error = TestJson.read(second.body());
        assertThat(error.get("code").asText()).isEqualTo("idempotency_key_reused");
        assertThat(error.get("message").asText()).contains("Idempotency-Key").contains("different request body");
        assertThat(countOf("first.body")).isEqualTo(1);
        assertThat(countOf("second.body")).isZero();
    }

    @Test
    void aKeyOlderThan24HoursStoresTheEventAgain() throws Exception {
        String body = TestJson.event(org, "expired.key");
        assertThat(service.post("/audit_logs/events", body, "key-expiring").statusCode()).isEqualTo(200);
        assertThat(service.post("/audit_logs/events", body, "key-expiring").statusCode()).isEqualTo(200);
        assertThat(countOf("expired.key")).isEqualTo(1);

        service.execute("UPDATE idempotency_key SET created_at = now() - interval '25 hours' WHERE key = 'key-expiring'");

        assertThat(service.post("/audit_logs/events", body, "key-expiring").statusCode()).isEqualTo(200);
        assertThat(countOf("expired.key")).isEqualTo(2);
    }

    @Test
    void aRefusedRequestDoesNotUseUpItsKey() throws Exception {
        String invalid = TestJson.event(org, "refused.first").replace("\"targets\":[{\"id\":\"user_123\",\"type\":\"user\"}]",
                "\"targets\":[]");
        assertThat(service.post("/audit_logs/events", invalid, "key-after-refusal").statusCode()).isEqualTo(422);

        assertThat(service.post("/audit_logs/events", TestJson.event(org, "refused.first"), "key-after-refusal")
                .statusCode()).isEqualTo(200);
        assertThat(countOf("refused.first")).isEqualTo(1);
    }

    @Test
    void keysPostgresWouldRefuseOrMisreadAre400() throws Exception {
        String body = TestJson.event(org, "bad.key");
        for (String key : List.of("k".repeat(256), "tab\tinside")) {
            HttpResponse<String> response = service.post("/audit_logs/events", body, key);
            assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
            assertThat(TestJson.read(response.body()).get("code").asText()).isEqualTo("invalid_idempotency_key");
        }
        assertThat(countOf("bad.key")).isZero();

        assertThat(service.post("/audit_logs/events", body, "k".repeat(255)).statusCode()).isEqualTo(200);
        assertThat(countOf("bad.key")).isEqualTo(1);
    }

    private static long countOf(String action) throws Exception {
        return service.count("SELECT count(*) FROM audit_event WHERE organization_id = '" + org
                + "' AND action = '" + action + "'");
    }
}
