package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import dev.auditstream.receivers.SplunkHec;
import dev.auditstream.support.EventSender;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/**
 * Usage per organization and month: the meter counts every accepted event once (concurrent ingestion, a restart, a
 * retention purge), deliveries are what the destination got, stream-days follow when streams existed, and the
 * Prometheus counters carry the organization only when asked to.
 */
class UsageMeteringTest {

    private static final long METER_LOCK = 72070006;

    @Test
    void usageIsExactAcrossConcurrentIngestionRestartsAndPurges() throws Exception {
        try (RunningService service = RunningService.start(RunningService.newDataDir("usage"), Map.of(
                "auditstream.allow-private-destinations", "true",
                "auditstream.delivery.poll-interval", "50",
                "auditstream.usage.meter-interval", "200",
                "auditstream.usage.meter-batch", "7",
                "auditstream.retention.purge-interval", "300",
                "auditstream.retention.purge-batch", "5"));
             SplunkHec splunk = SplunkHec.start("tok-usage")) {
            String acme = service.createOrganization("Acme");
            String globex = service.createOrganization("Globex");
            StreamApi streams = new StreamApi(service);
            String streamId = streams.create(acme, "Splunk",
                    "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"tok-usage\"}").get("id").asText();
            String gone = streams.create(globex, "Splunk",
                    "{\"url\":\"https://splunk.example.com\",\"token\":\"tok\"}").get("id").asText();
            assertThat(service.send(HttpRequest.newBuilder(service.uri("/log_streams/" + gone)).DELETE())
                    .statusCode()).isLessThan(300);

            Set<String> globexEvents;
            // while another instance holds the meter, nothing is counted and retention deletes nothing uncounted
            try (Connection other = service.dataSource().getConnection(); Statement lock = other.createStatement()) {
                lock.execute("SELECT pg_advisory_lock(" + METER_LOCK + ")");
                assertThat(new EventSender(service.uri("/audit_logs/events"), acme).run(4, 25)).hasSize(100);
                globexEvents = new EventSender(service.uri("/audit_logs/events"), globex).run(3, 20);
                assertThat(globexEvents).hasSize(60);
                // 20 of Globex's events arrived 400 days ago, past its 365 days of retention
                service.execute("UPDATE audit_event SET accepted_at = now() - interval '400 days' WHERE seq IN ("
                        + "SELECT seq FROM audit_event WHERE organization_id = '" + globex + "' ORDER BY seq LIMIT 20)");
                Thread.sleep(1500);
                assertThat(usage(service, globex, null).get("events_ingested").asLong()).isZero();
                assertThat(events(service, globex)).isEqualTo(60);
                lock.execute("SELECT pg_advisory_unlock(" + METER_LOCK + ")");
            }

            splunk.awaitEvents(100, java.time.Duration.ofSeconds(30));
            RunningService.await("Globex's expired events purged", () -> events(service, globex) == 40);
            awaitMetered(service, acme, 100);
            awaitMetered(service, globex, 40);
            YearMonth expiredMonth = YearMonth.from(LocalDate.now(ZoneOffset.UTC).minusDays(400));
            JsonNode past = usage(service, globex, expiredMonth.toString());
            assertThat(past.get("events_ingested").asLong()).isEqualTo(20);
            assertThat(past.get("active_streams").asLong()).isZero();
            JsonNode globexNow = usage(service, globex, null);
            assertThat(globexNow.get("events_retained").asLong()).isEqualTo(40);
            // the deleted stream still counts for the day it existed
            assertThat(globexNow.get("active_streams").asLong()).isEqualTo(1);
            assertThat(globexNow.get("stream_days").asLong()).isEqualTo(1);
            assertThat(globexNow.get("log_streams").get(0).get("id").asText()).isEqualTo(gone);
            assertThat(globexNow.get("log_streams").get(0).get("deleted_at").isNull()).isFalse();

            RunningService.await("Acme's deliveries counted", () -> delivered(service, acme, streamId) == 100);
            assertThat(splunk.events()).hasSize(100);
            String metrics = metrics(service);
            assertThat(metrics).contains("auditstream_usage_events_ingested_total 160.0");
            assertThat(metrics).contains("auditstream_usage_events_delivered_total 100.0");
            assertThat(metrics).doesNotContain("organization=\"" + acme + "\"");

            // a restart counts nothing again, and goes on where the meter stopped
            service.restart(Map.of("auditstream.metrics.per-organization", "true"));
            new StreamApi(service).send(acme, "after.restart", 10);
            splunk.awaitEvents(110, java.time.Duration.ofSeconds(30));
            awaitMetered(service, acme, 110);
            RunningService.await("Acme's deliveries counted", () -> delivered(service, acme, streamId) == 110);
            JsonNode acmeNow = usage(service, acme, null);
            assertThat(acmeNow.get("events_ingested").asLong()).isEqualTo(110);
            assertThat(acmeNow.get("events_retained").asLong()).isEqualTo(110);
            assertThat(acmeNow.get("events_delivered").asLong()).isEqualTo(splunk.events().size());
            assertThat(usage(service, globex, null).get("events_ingested").asLong()).isEqualTo(40);
            assertThat(service.count("SELECT sum(ingested) FROM organization_usage")).isEqualTo(
                    service.count("SELECT count(*) FROM audit_event") + 20);
            String perOrganization = metrics(service);
            assertThat(perOrganization).contains(
                    "auditstream_usage_events_ingested_total{organization=\"" + acme + "\"} 10.0");
            assertThat(perOrganization).contains(
                    "auditstream_usage_events_delivered_total{organization=\"" + acme + "\"} 10.0");
        }
    }

    @Test
    void streamDaysFollowWhenStreamsExistedAndTheListIsPaged() throws Exception {
        try (RunningService service = RunningService.start(RunningService.newDataDir("usage-days"), Map.of(
                "auditstream.usage.meter-interval", "200"))) {
            String acme = service.createOrganization("Acme");
            String globex = service.createOrganization("Globex");
            String streamId = new StreamApi(service).create(acme, "Splunk",
                    "{\"url\":\"https://splunk.example.com\",\"token\":\"tok\"}").get("id").asText();
            // created ten days before this month began (UTC)
            service.execute("UPDATE log_stream_lifetime SET created_at = "
                    + "(date_trunc('month', now() AT TIME ZONE 'UTC') - interval '10 days') AT TIME ZONE 'UTC'"
                    + " WHERE stream_id = '" + streamId + "'");
            LocalDate today = LocalDate.now(ZoneOffset.UTC);

            JsonNode now = usage(service, acme, null);
            assertThat(now.get("object").asText()).isEqualTo("usage");
            assertThat(now.get("month").asText()).isEqualTo(YearMonth.from(today).toString());
            assertThat(now.get("period_start").asText()).isEqualTo(today.withDayOfMonth(1) + "T00:00:00.000Z");
            assertThat(now.get("active_streams").asLong()).isEqualTo(1);
            assertThat(now.get("stream_days").asLong()).isEqualTo(today.getDayOfMonth());
            JsonNode before = usage(service, acme, YearMonth.from(today).minusMonths(1).toString());
            assertThat(before.get("stream_days").asLong()).isEqualTo(10);
            assertThat(before.get("log_streams").get(0).get("stream_days").asLong()).isEqualTo(10);
            assertThat(usage(service, acme, YearMonth.from(today).minusMonths(2).toString())
                    .get("active_streams").asLong()).isZero();

            // every organization, one per page
            Set<String> listed = new TreeSet<>();
            JsonNode page = TestJson.read(service.get("/usage?limit=1").body());
            listed.add(page.get("data").get(0).get("organization_id").asText());
            String after = page.get("list_metadata").get("after").asText();
            page = TestJson.read(service.get("/usage?limit=1&after=" + after).body());
            listed.add(page.get("data").get(0).get("organization_id").asText());
            assertThat(page.get("data").get(0).get("object").asText()).isEqualTo("usage");
            assertThat(listed).containsExactlyInAnyOrder(acme, globex);

            for (String bad : new String[] {"2026-13", "November", "2026-1", "0000-01",
                    YearMonth.from(today).plusMonths(1).toString()}) {
                HttpResponse<String> refused = service.get("/organizations/" + acme + "/usage?month=" + bad);
                assertThat(refused.statusCode()).as(bad).isEqualTo(422);
                assertThat(TestJson.read(refused.body()).get("errors").get(0).get("field").asText()).isEqualTo("month");
                assertThat(service.get("/usage?month=" + bad).statusCode()).as(bad).isEqualTo(422);
            }
            assertThat(service.get("/organizations/org_unknown/usage").statusCode()).isEqualTo(404);
            assertThat(service.get("/organizations/" + acme + "/usage?organization_id=" + globex).statusCode())
                    .isEqualTo(404);
        }
    }

    private static JsonNode usage(RunningService service, String org, String month) throws Exception {
        HttpResponse<String> response = service.get("/organizations/" + org + "/usage"
                + (month == null ? "" : "?month=" + month));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return TestJson.read(response.body());
    }

    private static long events(RunningService service, String org) throws Exception {
        return service.count("SELECT count(*) FROM audit_event WHERE organization_id = '" + org + "'");
    }

    /** Waits until the meter counted the organization's events in the log, which must be {@code expected}. */
    private static void awaitMetered(RunningService service, String org, long expected) throws Exception {
        RunningService.await(org + " metered", () -> usage(service, org, null).get("events_retained").asLong()
                == expected);
        assertThat(events(service, org)).isEqualTo(expected);
    }

    private static long delivered(RunningService service, String org, String streamId) throws Exception {
        JsonNode usage = usage(service, org, null);
        for (JsonNode stream : usage.get("log_streams")) {
            if (stream.get("id").asText().equals(streamId)) {
                assertThat(usage.get("events_delivered").asLong()).isEqualTo(stream.get("events_delivered").asLong());
                return stream.get("events_delivered").asLong();
            }
        }
        return -1;
    }

    private static String metrics(RunningService service) throws Exception {
        return RunningService.sendRaw(HttpRequest.newBuilder(service.managementUri("/observe/metrics")).GET().build()).body();
    }
}
