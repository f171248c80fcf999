package dev.auditstream.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.auditstream.support.RunningService;

/**
 * Delivery's looks into the log walk the primary key from the cursor, also when one organization holds the whole
 * log: with the probe written as EXISTS the planner chose a sequential scan there (it expects a match at once, but
 * a stream near its head finds one only at the end), ~100 ms per probe at 400,000 events in every claim pass. The
 * plans are the real server's, for the service's own statements, on 100,000 events of one organization with fresh
 * statistics; EXPLAIN runs nothing.
 */
class LogProbePlanTest {

    private static RunningService service;

    @BeforeAll
    static void start() throws Exception {
        service = RunningService.start(RunningService.newDataDir("log-probe-plan"),
                RunningService.withoutOwnClaims(Map.of()));
        try (Connection c = service.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("""
                    INSERT INTO audit_event (organization_id, id, action, occurred_at, accepted_at, actor_id,
                                             target_ids, target_types, event)
                    SELECT 'org_long_log',
                           'evt_' || n, 'user.signed_in', now(), now(), 'user_1', ARRAY['user_2'], ARRAY['user'],
                           '{"id":"evt_' || n || '","action":"user.signed_in"}'
                    FROM generate_series(1, 100000) n""");
            s.execute("ANALYZE audit_event");
        }
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    @Test
    void theClaimProbesTheLogAlongItsPrimaryKey() throws Exception {
        assertWalksThePrimaryKey(plan(DeliveryWorkers.CLAIM, 8, "instance-plan", 30_000L));
    }

    @Test
    void theFairShareCheckForOtherDueStreamsProbesAlongThePrimaryKey() throws Exception {
        assertWalksThePrimaryKey(plan(DeliveryWorkers.OTHERS_DUE, "ls_none"));
    }

    @Test
    void theReleaseThatMarksAStreamCaughtUpProbesAlongThePrimaryKey() throws Exception {
        assertWalksThePrimaryKey(plan(DeliveryWorkers.RELEASE, true, "ls_none",
                "00000000-0000-0000-0000-000000000000"));
    }

    @Test
    void thePeriodicMarkProbesAlongThePrimaryKey() throws Exception {
        assertWalksThePrimaryKey(plan(IdleStreams.MARK_CAUGHT_UP));
    }

    @Test
    void aBatchIsReadAlongThePrimaryKeyFromTheCursor() throws Exception {
        assertWalksThePrimaryKey(plan(EventBatches.NEXT, "org_long_log", "0", 0L, 1000, 1_048_576L));
    }

    private static void assertWalksThePrimaryKey(String plan) {
        assertThat(plan).as(plan).contains("audit_event_pkey").doesNotContain("Seq Scan on audit_event");
    }

    /** The server's plan for a statement with its parameters bound; EXPLAIN without ANALYZE runs nothing. */
    private static String plan(String sql, Object... parameters) throws SQLException {
        try (Connection c = service.deliveryDataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("EXPLAIN " + sql)) {
            for (int i = 0; i < parameters.length; i++) {
                ps.setObject(i + 1, parameters[i]);
            }
            StringBuilder plan = new StringBuilder();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    plan.append(rs.getString(1)).append('\n');
                }
            }
            return plan.toString();
        }
    }
}
