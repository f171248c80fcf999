package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import dev.auditstream.support.EventSender;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/**
 * The purge route deletes each organization's events past its own retention, in bounded batches, and nothing else;
 * with several instances, one purges at a time.
 */
class RetentionPurgeTest {

    private static final String OLD_KEY = "SELECT count(*) FROM idempotency_key WHERE key = 'old-key'";

    @Test
    void eventsPastEachOrganizationsRetentionAreDeletedInBatches() throws Exception {
        try (RunningService service = RunningService.start(RunningService.newDataDir("retention"), Map.of(
                "auditstream.audit-trail.enabled", "true",
                // only events the usage meter has counted are purged
                "auditstream.usage.meter-interval", "300",
                "auditstream.retention.purge-interval", "300",
                "auditstream.retention.purge-batch", "100"))) {
            String shortLived = service.createOrganization("Thirty Days");
            String longLived = service.createOrganization("A Year");
            assertThat(service.put("/organizations/" + shortLived + "/audit_logs_retention",
                    "{\"retention_period_in_days\":30}").statusCode()).isEqualTo(200);

            // a paused stream that never delivers: what retention deletes before it does is counted on it
            StreamApi streams = new StreamApi(service);
            String pausedId = streams.create(shortLived, "Splunk",
                    "{\"url\":\"https://splunk.example.com\",\"token\":\"tok\"}").get("id").asText();
            streams.patch(pausedId, "{\"state\":\"inactive\"}");
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
            assertThat(streams.get(pausedId).get("expired_undelivered").asLong()).isEqualTo(450);
        }
    }

    @Test
    void expiredIdempotencyKeysArePurged() throws Exception {
        try (RunningService service = RunningService.start(RunningService.newDataDir("key-purge"), Map.of(
                "auditstream.retention.purge-interval", "300"))) {
            String org = service.createOrganization("Keys");
            storeExpiredKey(service, org);
            service.post("/audit_logs/events", TestJson.event(org, "a.c"), "fresh-key");

            awaitCount(service, OLD_KEY, 0, Duration.ofSeconds(20));
            assertThat(service.count("SELECT count(*) FROM idempotency_key WHERE key = 'fresh-key'")).isEqualTo(1);
        }
    }

    @Test
    void onlyOneInstanceAtATimePurges() throws Exception {
        try (RunningService service = RunningService.start(RunningService.newDataDir("purge-lock"), Map.of(
                "auditstream.retention.purge-interval", "300"))) {
            storeExpiredKey(service, service.createOrganization("Lock"));
            // another instance's purge holds the job's advisory lock: this one leaves the rows alone
            try (Connection other = service.dataSource().getConnection(); Statement lock = other.createStatement()) {
                lock.execute("SELECT pg_advisory_lock(72070002)");
                Thread.sleep(2000);
                assertThat(service.count(OLD_KEY)).isOne();
                lock.execute("SELECT pg_advisory_unlock(72070002)");
            }
            awaitCount(service, OLD_KEY, 0, Duration.ofSeconds(20));
        }
    }

    /** An idempotency key stored 25 hours ago, past the 24 hours keys are kept. */
    private static void storeExpiredKey(RunningService service, String org) throws Exception {
        service.post("/audit_logs/events", TestJson.event(org, "a.b"), "old-key");
        service.execute("UPDATE idempotency_key SET created_at = now() - interval '25 hours' WHERE key = 'old-key'");
    }

    /**
     * Ages the sender's events only: the organization's own trail (retention changed, stream created and paused) is
     * left alone and not counted.
     */
    private static void age(RunningService service, String org, String age, int rows) throws Exception {
        service.execute("UPDATE audit_event SET accepted_at = now() - interval '" + age + "' WHERE (organization_id, seq) IN ("
                + "SELECT organization_id, seq FROM audit_event WHERE organization_id = '" + org
                + "' AND action = 'load.test' AND accepted_at > now() - interval '1 day' ORDER BY seq LIMIT " + rows + ")");
    }

    private static void awaitCount(RunningService service, String org, long expected) throws Exception {
        awaitCount(service, "SELECT count(*) FROM audit_event WHERE organization_id = '" + org
                + "' AND action = 'load.test'", expected, Duration.ofSeconds(30));
    }

    private static void awaitCount(RunningService service, String sql, long expected, Duration wait) throws Exception {
        long deadline = System.nanoTime() + wait.toNanos();
        while (service.count(sql) != expected && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(service.count(sql)).isEqualTo(expected);
    }
}
