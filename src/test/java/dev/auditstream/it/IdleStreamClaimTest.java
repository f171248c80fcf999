package dev.auditstream.it;

import static dev.auditstream.support.StreamApi.actions;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.camel.component.timer.TimerConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import dev.auditstream.delivery.CommitWakeups;
import dev.auditstream.receivers.SplunkHec;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;

/**
 * A stream found at its organization's head costs the claim nothing until a wake-up names its organization. The
 * sweep is an hour apart here, so only a wake-up (or the listener's reconnect) makes the claim look into the log
 * for a caught-up stream; the last test shortens it to show the sweep finds events that came with no wake-up.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IdleStreamClaimTest {

    private static final Duration SOON = Duration.ofSeconds(10);
    /** Longer than a server process keeps its statistics before reporting them (10 s when idle). */
    private static final Duration STATS_SETTLED = Duration.ofSeconds(11);
    private static final String LISTENER_PID = "SELECT coalesce(max(pid), 0) FROM pg_stat_activity "
            + "WHERE application_name = '" + CommitWakeups.APPLICATION_NAME + "'";
    private static final String TRIGGER = "audit_event_wake_delivery";

    private static RunningService service;
    private static StreamApi streams;

    @BeforeAll
    static void start() throws Exception {
        service = RunningService.start(RunningService.newDataDir("idle-streams"), Map.of(
                "auditstream.allow-private-destinations", "true",
                "auditstream.delivery.sweep-interval", "PT1H",
                "auditstream.delivery.wake-reconnect-delay", "PT0.2S"));
        streams = new StreamApi(service);
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    @Test
    @Order(1)
    void idleStreamsAreNotLookedForInTheLog() throws Exception {
        try (SplunkHec splunk = SplunkHec.start("tok-idle")) {
            List<String> organizations = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String org = splunkStream(splunk, "Idle Org " + i, "tok-idle");
                streams.send(org, "idle", 1);
                organizations.add(org);
            }
            splunk.awaitEvents(organizations.size(), Duration.ofSeconds(30));
            awaitAllCaughtUp();

            // flat for longer than statistics take to arrive, while the poll runs its passes over the idle streams
            TimerConsumer poll = (TimerConsumer) service.context().getRoute("claim-poll-timer").getConsumer();
            long passesBefore = poll.getCounter();
            long scans = awaitScansFlat();
            assertThat(poll.getCounter() - passesBefore).isGreaterThan(STATS_SETTLED.toMillis() / 200);

            // the counter does move when a stream has work: one event's wake-up makes the claim look
            List<String> sent = streams.send(organizations.get(0), "busy", 1);
            assertThat(actions(splunk.awaitEvents(organizations.size() + 1, SOON))).endsWith(sent.get(0));
            RunningService.await("the claim's look into the log is counted", () -> auditEventScans() > scans);
        }
    }

    /** Last: it restarts the service with a short sweep. */
    @Test
    @Order(2)
    void aWakeUpDeliversItsOrganizationAndTheSweepFindsEventsThatHadNone() throws Exception {
        try (SplunkHec splunkA = SplunkHec.start("tok-a"); SplunkHec splunkB = SplunkHec.start("tok-b")) {
            String orgA = splunkStream(splunkA, "Woken Org", "tok-a");
            String orgB = splunkStream(splunkB, "Silent Org", "tok-b");
            awaitAllCaughtUp();
            long listener = service.count(LISTENER_PID);

            List<String> silent = sendWithoutWakeUp(orgB, "silent");
            List<String> woken = streams.send(orgA, "woken", 1);
            assertThat(actions(splunkA.awaitEvents(1, SOON))).containsExactlyElementsOf(woken);
            // every pass since skipped B's caught-up stream: nothing named its organization
            awaitAllCaughtUp();
            assertThat(service.count(LISTENER_PID)).isEqualTo(listener);
            assertThat(splunkB.events()).isEmpty();

            // notifications may be lost while the listener reconnects: once back, it has every stream looked at
            service.execute("SELECT pg_terminate_backend(" + listener + ")");
            assertThat(actions(splunkB.awaitEvents(1, SOON))).containsExactlyElementsOf(silent);

            // with no wake-up at all, the sweep has the stream looked at
            service.restart(Map.of("auditstream.delivery.sweep-interval", "PT1S"));
            awaitAllCaughtUp();
            List<String> late = sendWithoutWakeUp(orgB, "late");
            assertThat(actions(splunkB.awaitEvents(2, SOON))).endsWith(late.get(0));
        }
    }

    private static String splunkStream(SplunkHec splunk, String name, String token) throws Exception {
        String org = service.createOrganization(name);
        streams.create(org, "Splunk", "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"" + token + "\"}");
        return org;
    }

    /** Events written while the log's wake-up trigger is off: no notification names their organization. */
    private static List<String> sendWithoutWakeUp(String org, String prefix) throws Exception {
        service.execute("ALTER TABLE audit_event DISABLE TRIGGER " + TRIGGER);
        try {
            return streams.send(org, prefix, 1);
        } finally {
            service.execute("ALTER TABLE audit_event ENABLE TRIGGER " + TRIGGER);
        }
    }

    private static void awaitAllCaughtUp() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (service.count("SELECT count(*) FROM log_stream WHERE NOT caught_up") != 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until every stream is marked caught up: " + notCaughtUp());
            }
            Thread.sleep(10);
        }
    }

    private static String notCaughtUp() throws Exception {
        try (Connection c = service.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("""
                     SELECT string_agg(format('%s %s next %s lease %s redrive %s events after cursor %s', s.id, s.state,
                         s.next_attempt_at - now(), s.lease_until - now(), s.redrive_requested,
                         (SELECT count(*) FROM audit_event e WHERE e.organization_id = s.organization_id
                            AND (e.xid, e.seq) > (s.cursor_xid, s.cursor_seq))), '; ')
                     FROM log_stream s WHERE NOT caught_up""")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Waits until the audit log's index scans stay unchanged for {@link #STATS_SETTLED}; returns their count. */
    private static long awaitScansFlat() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        long scans = auditEventScans();
        long flatSince = System.nanoTime();
        while (System.nanoTime() - flatSince < STATS_SETTLED.toNanos()) {
            assertThat(System.nanoTime()).as("index scans on audit_event stay flat").isLessThan(deadline);
            Thread.sleep(500);
            long now = auditEventScans();
            if (now != scans) {
                scans = now;
                flatSince = System.nanoTime();
            }
        }
        return scans;
    }

    private static long auditEventScans() throws Exception {
        return service.count("SELECT coalesce(sum(idx_scan), 0) + coalesce(sum(seq_scan), 0) FROM pg_stat_user_tables "
                + "WHERE relname = 'audit_event' OR relid IN (SELECT inhrelid FROM pg_inherits "
                + "WHERE inhparent = 'audit_event'::regclass)");
    }
}
