package dev.auditstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * The purge route deletes each organization's events past its own retention, in bounded batches, and nothing else;
 * with several instances, one purges at a time.
 */
class RetentionPurgeTest {

    @Test
    void eventsPastEachOrganizationsRetentionAreDeletedInBatches() throws Exception {
        try (RunningService service = RunningService.start(RunningService.newDataDir("retention"), Map.of(
                "auditstream.retention.purge-interval", "300",
                "auditstream.retention.purge-batch", "100"))) {
            String shortLived = service.createOrganization("Thirty Days");
            String longLived = service.createOrganization("A Year");
            assertThat(service.put("/organizations/" + shortLived + "/audit_logs_retention",
                    "{\"retention_period_in_days\":30}").statusCode()).isEqualTo(200);

            Set<String> shortAcked = new EventSender(service.uri("/audit_logs/events"), shortLived).run(10, 60);
            Set<String> longAcked = new EventSender(service.uri("/audit_logs/events"), longLived).run(10, 60);
            assertThat(shortAcked).hasSize(600);
            assertThat(longAcked).hasSize(600);
            // 450 of each organization's events arrived 40 days ago, 50 of them 400 days ago
            age(service, shortLived, "40 days", 450);
            age(service, longLived, "40 days", 450);
            age(service, longLived, "400 days", 50);

            awaitCount(service, shortLived, 150);
            awaitCount(service, longLived, 550);
            assertThat(service.count("SELECT count(*) FROM audit_event WHERE organization_id = '" + shortLived
                    + "' AND accepted_at < now() - interval '30 days'")).isZero();
            assertThat(service.count("SELECT count(*) FROM audit_event WHERE organization_id = '" + longLived
                    + "' AND accepted_at < now() - interval '365 days'")).isZero();
        }
    }

    @Test
    void expiredIdempotencyKeysArePurged() throws Exception {
        try (RunningService service = RunningService.start(RunningService.newDataDir("key-purge"), Map.of(
                "auditstream.retention.purge-interval", "300"))) {
            String org = service.createOrganization("Keys");
            service.post("/audit_logs/events", TestJson.event(org, "a.b"), "old-key");
            service.post("/audit_logs/events", TestJson.event(org, "a.c"), "fresh-key");
            service.execute("UPDATE idempotency_key SET created_at = now() - interval '25 hours' WHERE key = 'old-key'");

            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (service.count("SELECT count(*) FROM idempotency_key WHERE key = 'old-key'") > 0
                    && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(service.count("SELECT count(*) FROM idempotency_key WHERE key = 'old-key'")).isZero();
            assertThat(service.count("SELECT count(*) FROM idempotency_key WHERE key = 'fresh-key'")).isEqualTo(1);
        }
    }

    @Test
    void onlyOneInstanceAtATimePurges() throws Exception {
        try (RunningService service = RunningService.start(RunningService.newDataDir("purge-lock"), Map.of(
                "auditstream.retention.purge-interval", "300"))) {
            String org = service.createOrganization("Lock");
            service.post("/audit_logs/events", TestJson.event(org, "a.b"), "old-key");
            service.execute("UPDATE idempotency_key SET created_at = now() - interval '25 hours' WHERE key = 'old-key'");
            String remaining = "SELECT count(*) FROM idempotency_key WHERE key = 'old-key'";
            // another instance's purge holds the job's advisory lock: this one leaves the rows alone
            try (Connection other = service.dataSource().getConnection(); Statement lock = other.createStatement()) {
                lock.execute("SELECT pg_advisory_lock(72070002)");
                Thread.sleep(2000);
                assertThat(service.count(remaining)).isOne();
                lock.execute("SELECT pg_advisory_unlock(72070002)");
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (service.count(remaining) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(service.count(remaining)).isZero();
        }
    }

    private static void age(RunningService service, String org, String age, int rows) throws Exception {
        service.execute("UPDATE audit_event SET accepted_at = now() - interval '" + age + "' WHERE (organization_id, seq) IN ("
                + "SELECT organization_id, seq FROM audit_event WHERE organization_id = '" + org
                + "' AND accepted_at > now() - interval '1 day' ORDER BY seq LIMIT " + rows + ")");
    }

    private static void awaitCount(RunningService service, String org, long expected) throws Exception {
        String sql = "SELECT count(*) FROM audit_event WHERE organization_id = '" + org + "'";
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (service.count(sql) != expected && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(service.count(sql)).isEqualTo(expected);
    }
}
