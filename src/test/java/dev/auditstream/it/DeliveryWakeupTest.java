package dev.auditstream.it;

import static dev.auditstream.support.StreamApi.actions;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.camel.CamelContext;
import org.apache.camel.component.seda.SedaEndpoint;
import org.apache.camel.component.timer.TimerConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.auditstream.delivery.CommitWakeups;
import dev.auditstream.receivers.SplunkHec;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;

/**
 * A commit wakes delivery at once. The claim poll here is an hour apart: it runs once, a second after start, before
 * any stream exists, so an event that reaches its destination within seconds was claimed because its commit woke the
 * claim; without the wake-up it would wait for the next poll, an hour later.
 */
class DeliveryWakeupTest {

    /** Far below the poll interval; room for a loaded machine's first delivery. */
    private static final Duration SOON = Duration.ofSeconds(5);
    private static final Map<String, String> HOURLY_POLL = Map.of(
            "auditstream.allow-private-destinations", "true",
            "auditstream.delivery.poll-interval", "PT1H",
            "auditstream.delivery.wake-reconnect-delay", "PT0.2S");

    private static RunningService service;
    private static StreamApi streams;

    @BeforeAll
    static void start() throws Exception {
        service = RunningService.start(RunningService.newDataDir("wakeups"), HOURLY_POLL);
        streams = new StreamApi(service);
        awaitStartupPollDone(service);
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    @Test
    void aCommittedEventIsDeliveredWithoutWaitingForThePoll() throws Exception {
        try (SplunkHec splunk = SplunkHec.start("tok-wake")) {
            String org = splunkStream(service, splunk, "Wake Org", "tok-wake");
            List<String> sent = streams.send(org, "wake", 1);

            assertThat(actions(splunk.awaitEvents(1, SOON))).containsExactlyElementsOf(sent);
        }
    }

    @Test
    void theListenerComesBackAfterItsSessionIsTerminated() throws Exception {
        try (SplunkHec splunk = SplunkHec.start("tok-cut")) {
            String org = splunkStream(service, splunk, "Cut Org", "tok-cut");
            RunningService.await("the listener is connected", () -> listenerPid(service) != 0);
            long before = listenerPid(service);

            assertThat(service.count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    + "WHERE application_name = '" + CommitWakeups.APPLICATION_NAME + "'")).isEqualTo(1);
            RunningService.await("the old session is gone", () -> listenerPid(service) != before);
            // committed before the listener is back (the wake-up after reconnecting claims it) or after (its LISTEN)
            List<String> sent = streams.send(org, "cut", 1);
            assertThat(actions(splunk.awaitEvents(1, SOON))).containsExactlyElementsOf(sent);
            RunningService.await("the listener is back on a new session", () -> listenerPid(service) != 0);

            // a commit while the drain still holds the stream would wait for the poll: once it is given back
            RunningService.await("the stream is given back",
                    () -> service.count("SELECT count(*) FROM log_stream WHERE lease_owner IS NOT NULL") == 0);
            List<String> after = streams.send(org, "after", 1);
            assertThat(actions(splunk.awaitEvents(2, SOON))).endsWith(after.get(0));
        }
    }

    @Test
    void withWakeOnCommitOffEventsWaitForThePoll() throws Exception {
        Map<String, String> settings = new HashMap<>(HOURLY_POLL);
        settings.put("auditstream.delivery.wake-on-commit", "false");
        try (SplunkHec splunk = SplunkHec.start("tok-off");
             RunningService off = RunningService.start(RunningService.newDataDir("wakeups-off"), settings)) {
            awaitStartupPollDone(off);
            String org = splunkStream(off, splunk, "Off Org", "tok-off");
            new StreamApi(off).send(org, "off", 1);

            Thread.sleep(2_000);
            assertThat(splunk.events()).isEmpty();
            assertThat(off.count("SELECT count(*) FROM pg_stat_activity WHERE application_name = '"
                    + CommitWakeups.APPLICATION_NAME + "'")).isZero();
        }
    }

    private static String splunkStream(RunningService on, SplunkHec splunk, String name, String token)
            throws Exception {
        String org = on.createOrganization(name);
        new StreamApi(on).create(org, "Splunk", "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"" + token + "\"}");
        return org;
    }

    /** Until the poll's one run at start has fired and its claim pass is over: no poll comes after it. */
    private static void awaitStartupPollDone(RunningService on) throws Exception {
        CamelContext context = on.context();
        TimerConsumer timer = (TimerConsumer) context.getRoute("claim-poll-timer").getConsumer();
        SedaEndpoint claims = context.getEndpoint("seda:claim-due-streams", SedaEndpoint.class);
        RunningService.await("the poll at start ran", () -> timer.getCounter() >= 1
                && claims.getCurrentQueueSize() == 0 && context.getInflightRepository().size("claim-due-streams") == 0);
    }

    /** The listening session's process id, 0 while there is none. */
    private static long listenerPid(RunningService on) throws Exception {
        return on.count("SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE application_name = '"
                + CommitWakeups.APPLICATION_NAME + "'");
    }
}
