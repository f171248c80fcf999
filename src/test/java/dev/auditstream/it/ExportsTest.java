package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import com.fasterxml.jackson.databind.JsonNode;
import com.workos.WorkOS;
import com.workos.models.AuditLogExport;
import com.workos.types.AuditLogExportState;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import dev.auditstream.support.ChildService;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.TestJson;

/** Exports through WorkOS's SDK: pending, then ready with a signed link to a CSV that holds exactly the events. */
class ExportsTest {

    private static RunningService service;
    private static WorkOS workos;
    private static String org;

    @BeforeAll
    static void start() throws Exception {
        service = RunningService.start(RunningService.newDataDir("exports"));
        workos = WorkOS.builder().apiKey(RunningService.API_KEY).apiBaseUrl(service.baseUrl()).build();
        org = service.createOrganization("Exported");
        for (int day = 1; day <= 5; day++) {
            String body = TestJson.event(org, day % 2 == 0 ? "user.signed_in" : "invoice.paid")
                    .replace("2024-01-15T10:30:00.000Z", "2024-02-0" + day + "T08:00:00.000Z")
                    .replace("\"user_456\"", "\"actor_" + day + "\"")
                    .replace("\"type\":\"user\"}]", "\"type\":\"" + (day <= 2 ? "team" : "user") + "\"}]")
                    .replace("\"Chrome/91.0\"}}}", "\"Chrome/91.0\"},\"metadata\":{\"day\":" + day + ",\"note\":\"a, \\\"quoted\\\" value\"}}}");
            assertThat(service.post("/audit_logs/events", body).statusCode()).as(body).isEqualTo(200);
        }
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    @Test
    void theSdkCreatesAnExportThatBecomesACsvOfTheEvents() throws Exception {
        AuditLogExport created = workos.getAuditLogs().createExport(org,
                OffsetDateTime.parse("2024-02-01T00:00:00Z"), OffsetDateTime.parse("2024-03-01T00:00:00Z"));
        assertThat(created.getId()).startsWith("audit_log_export_");
        assertThat(created.getState()).isEqualTo(AuditLogExportState.Pending);

        AuditLogExport ready = awaitReady(created.getId());
        List<CSVRecord> rows = csv(ready.getUrl());
        assertThat(rows).hasSize(5);
        CSVRecord third = rows.get(2);
        JsonNode stored = TestJson.read(storedById(third.get("id")));
        assertThat(third.get("occurred_at")).isEqualTo("2024-02-03T08:00:00.000Z");
        assertThat(third.get("actor_id")).isEqualTo("actor_3");
        assertThat(third.get("actor_name")).isEqualTo("Jon Smith");
        assertThat(TestJson.read(third.get("targets"))).isEqualTo(stored.get("targets"));
        assertThat(TestJson.read(third.get("metadata"))).isEqualTo(stored.get("metadata"));
        assertThat(third.get("location")).isEqualTo("192.168.1.1");
        assertThat(third.get("user_agent")).isEqualTo("Chrome/91.0");
    }

    @Test
    void filtersChooseTheRows() throws Exception {
        assertThat(exportedActors("\"actions\":[\"user.signed_in\"]")).containsExactly("actor_2", "actor_4");
        assertThat(exportedActors("\"actor_ids\":[\"actor_1\",\"actor_5\"]")).containsExactly("actor_1", "actor_5");
        assertThat(exportedActors("\"targets\":[\"team\"]")).containsExactly("actor_1", "actor_2");
        assertThat(exportedActors("\"actor_names\":[\"Nobody\"]")).isEmpty();
        String narrow = "\"range_start\":\"2024-02-02T00:00:00Z\",\"range_end\":\"2024-02-04T00:00:00Z\"";
        JsonNode export = TestJson.read(service.post("/audit_logs/exports", "{\"organization_id\":\"" + org + "\","
                + narrow + "}").body());
        assertThat(csv(awaitReady(export.get("id").asText()).getUrl())).extracting(r -> r.get("actor_id"))
                .containsExactly("actor_2", "actor_3");
    }

    @Test
    void anotherOrganizationsExportAndBadLinksAreRefused() throws Exception {
        String other = service.createOrganization("Not Yours");
        JsonNode export = TestJson.read(service.post("/audit_logs/exports", "{\"organization_id\":\"" + org
                + "\",\"range_start\":\"2024-01-01T00:00:00Z\",\"range_end\":\"2025-01-01T00:00:00Z\"}").body());
        String id = export.get("id").asText();
        assertThat(service.get("/audit_logs/exports/" + id + "?organization_id=" + other).statusCode()).isEqualTo(404);
        assertThat(service.get("/audit_logs/exports/audit_log_export_missing").statusCode()).isEqualTo(404);

        String url = awaitReady(id).getUrl();
        String[] token = url.substring(url.indexOf("token=") + 6).split("\\.");
        HttpResponse<String> tampered = RunningService.sendRaw(HttpRequest.newBuilder(URI.create(
                url.substring(0, url.length() - 1) + (url.endsWith("A") ? "B" : "A"))).build());
        assertThat(tampered.statusCode()).isEqualTo(403);
        String longer = Base64.getUrlEncoder().withoutPadding().encodeToString(new String(
                Base64.getUrlDecoder().decode(token[1]), StandardCharsets.UTF_8)
                .replaceAll("\"e\":\\d+", "\"e\":99999999999").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> stretched = RunningService.sendRaw(HttpRequest.newBuilder(URI.create(
                url.replace(token[1], longer))).build());
        assertThat(stretched.statusCode()).isEqualTo(403);
        // a valid link names its export: it opens no other
        String otherId = awaitReady(exportOf(org, "")).getId();
        HttpResponse<String> another = RunningService.sendRaw(HttpRequest.newBuilder(URI.create(
                url.replace("/exports/" + id + "/", "/exports/" + otherId + "/"))).build());
        assertThat(another.statusCode()).isEqualTo(403);

        HttpResponse<String> badRange = service.post("/audit_logs/exports", "{\"organization_id\":\"" + org
                + "\",\"range_start\":\"2024-02-01T00:00:00Z\"}");
        assertThat(badRange.statusCode()).isEqualTo(422);
        assertThat(TestJson.read(badRange.body()).at("/errors/0/field").asText()).isEqualTo("range_end");
    }

    @Test
    void filterListsTakeAtMostAHundredValues() throws Exception {
        String hundred = IntStream.range(0, 100).mapToObj(i -> "\"user.action_" + i + "\"")
                .collect(Collectors.joining(","));
        String range = "\"range_start\":\"2024-01-01T00:00:00Z\",\"range_end\":\"2025-01-01T00:00:00Z\"";
        assertThat(service.post("/audit_logs/exports", "{\"organization_id\":\"" + org + "\"," + range
                + ",\"actions\":[" + hundred + "]}").statusCode()).isEqualTo(201);
        HttpResponse<String> tooMany = service.post("/audit_logs/exports", "{\"organization_id\":\"" + org + "\","
                + range + ",\"actor_ids\":[" + hundred + ",\"one_more\"]}");
        assertThat(tooMany.statusCode()).isEqualTo(422);
        assertThat(TestJson.read(tooMany.body()).at("/errors/0/field").asText()).isEqualTo("actor_ids");
    }

    /** OWASP's rule against CSV injection, for every first character it names, in every column that can hold one. */
    @Test
    void cellsASpreadsheetWouldRunAsAFormulaStartWithAQuote() throws Exception {
        String formulas = service.createOrganization("Formulas");
        List<String> starts = List.of("=", "+", "-", "@", "\t", "\r");
        for (int i = 0; i < starts.size(); i++) {
            storeEvent(formulas, i, starts.get(i) + "HYPERLINK(\"https://example.com\",\"x\")", "now()");
        }
        storeEvent(formulas, starts.size(), "plain=text-with+formula@characters", "now()");

        List<CSVRecord> rows = csv(awaitReady(exportOf(formulas, "")).getUrl());
        assertThat(rows).hasSize(starts.size() + 1);
        for (int i = 0; i < rows.size(); i++) {
            CSVRecord row = rows.get(i);
            String expected = i < starts.size() ? "'" + starts.get(i) + "HYPERLINK(\"https://example.com\",\"x\")"
                    : "plain=text-with+formula@characters";
            for (String column : List.of("action", "actor_id", "actor_type", "actor_name", "location", "user_agent")) {
                assertThat(row.get(column)).as("%s of row %d", column, i).isEqualTo(expected);
            }
        }
    }

    @Test
    void anExportIsKeptAWeekButNeverLongerThanItsEventsAreAndIsGoneOnceExpired() throws Exception {
        String thirtyDays = service.createOrganization("Thirty Days");
        assertThat(service.put("/organizations/" + thirtyDays + "/audit_logs_retention",
                "{\"retention_period_in_days\":30}").statusCode()).isEqualTo(200);
        storeEvent(thirtyDays, 0, "user.signed_in", "now() - interval '29 days'");
        AuditLogExport old = awaitReady(exportOf(thirtyDays, ""));
        AuditLogExport recent = awaitReady(exportOf(org, ""));

        // the 29-day-old event leaves the log in a day, and its copy with it; the others are kept a week
        assertThat(service.count("SELECT floor(extract(epoch FROM expires_at - now()) / 3600) FROM audit_log_export "
                + "WHERE id = '" + old.getId() + "'")).isEqualTo(23);
        assertThat(service.count("SELECT floor(extract(epoch FROM expires_at - now()) / 3600) FROM audit_log_export "
                + "WHERE id = '" + recent.getId() + "'")).isEqualTo(7 * 24 - 1);

        service.execute("UPDATE audit_log_export SET expires_at = now() WHERE id = '" + old.getId() + "'");
        assertThat(service.get("/audit_logs/exports/" + old.getId()).statusCode()).isEqualTo(404);
        assertThat(RunningService.sendRaw(HttpRequest.newBuilder(URI.create(old.getUrl())).build()).statusCode())
                .isEqualTo(404);
    }

    @Test
    void aPendingExportWhoseWriterDiedIsPickedUpAgain() throws Exception {
        // as a killed instance leaves it: pending, leased to a writer that is gone, some chunks already written
        service.execute("INSERT INTO audit_log_export (id, organization_id, filters, state, lease_owner, lease_until) "
                + "VALUES ('audit_log_export_orphan', '" + org + "', '{\"range_start\":\"2024-01-01T00:00:00.000Z\","
                + "\"range_end\":\"2025-01-01T00:00:00.000Z\"}', 'pending', 'instance-gone', now() - interval '1 minute')");
        service.execute("INSERT INTO audit_log_export_chunk (export_id, n, data) VALUES ('audit_log_export_orphan', 0, "
                + "'half-written'::bytea)");

        assertThat(csv(awaitReady("audit_log_export_orphan").getUrl())).hasSize(5);
    }

    @Test
    void aLargeExportRunsInAFixedHeap() throws Exception {
        java.nio.file.Path dataDir = RunningService.newDataDir("large-export");
        String big;
        try (RunningService first = RunningService.start(dataDir)) {
            big = first.createOrganization("Large");
            first.execute("""
                    INSERT INTO audit_event (organization_id, id, action, occurred_at, accepted_at, actor_id, actor_name,
                                             target_ids, target_types, event)
                    SELECT '%s', lpad(n::text, 26, '0'), 'user.signed_in', '2024-03-01'::timestamptz + n * interval '1 second',
                           now(), 'user_' || (n %% 100), 'User', '{t_1}', '{user}',
                           '{"id":"' || lpad(n::text, 26, '0') || '","action":"user.signed_in","targets":[{"id":"t_1","type":"user"}],'
                           || '"actor":{"id":"user_' || (n %% 100) || '","type":"user","name":"User"},'
                           || '"context":{"location":"10.0.0.1","user_agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"},'
                           || '"occurred_at":"2024-03-01T00:00:00.000Z","metadata":{"request_id":"' || md5(n::text) || '"}}'
                    FROM generate_series(1, 200000) AS n""".formatted(big));
        }
        // the heap is far smaller than the CSV (about 70 MB): only streaming fits
        try (ChildService child = ChildService.start(dataDir, "large-export", Map.of("JAVA_TOOL_OPTIONS", "-Xmx128m"))) {
            HttpResponse<String> created = child.post("/audit_logs/exports", "{\"organization_id\":\"" + big
                    + "\",\"range_start\":\"2024-01-01T00:00:00Z\",\"range_end\":\"2025-01-01T00:00:00Z\"}");
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            String id = TestJson.read(created.body()).get("id").asText();
            JsonNode export = TestJson.read(created.body());
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (!export.get("state").asText().equals("ready") && System.nanoTime() < deadline) {
                Thread.sleep(500);
                export = TestJson.read(child.get("/audit_logs/exports/" + id).body());
            }
            assertThat(export.get("state").asText()).isEqualTo("ready");
            String url = export.get("url").asText().replaceFirst("http://localhost:\\d+", child.uri("").toString());
            HttpResponse<java.util.stream.Stream<String>> download = java.net.http.HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofLines());
            assertThat(download.statusCode()).isEqualTo(200);
            assertThat(download.body().count()).isEqualTo(200_001);
        }
    }

    private static List<String> exportedActors(String filter) throws Exception {
        List<String> actors = new ArrayList<>();
        csv(awaitReady(exportOf(org, filter)).getUrl()).forEach(r -> actors.add(r.get("actor_id")));
        return actors;
    }

    /** Starts an export of the organization's events of 2024 ({@code filter}: more members of the request). */
    private static String exportOf(String organizationId, String filter) throws Exception {
        HttpResponse<String> created = service.post("/audit_logs/exports", "{\"organization_id\":\"" + organizationId
                + "\",\"range_start\":\"2024-01-01T00:00:00Z\",\"range_end\":\"2025-01-01T00:00:00Z\""
                + (filter.isEmpty() ? "" : "," + filter) + "}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return TestJson.read(created.body()).get("id").asText();
    }

    /**
     * An event as the log holds it, written directly (values the API might refuse, acceptance in the past), with
     * {@code value} in every text column.
     */
    private static void storeEvent(String organizationId, int day, String value, String acceptedAt) throws Exception {
        try (var c = service.dataSource().getConnection(); var ps = c.prepareStatement("""
                WITH e AS (SELECT ?::text AS org, ?::text AS id, ?::text AS v, ?::timestamptz AS at)
                INSERT INTO audit_event (organization_id, id, action, occurred_at, accepted_at, actor_id, actor_name,
                                         target_ids, target_types, event)
                SELECT org, id, v, at, %s, v, v, '{t_1}', '{user}', json_build_object('id', id, 'action', v,
                       'targets', json_build_array(json_build_object('id', 't_1', 'type', 'user')),
                       'actor', json_build_object('id', v, 'type', v, 'name', v),
                       'context', json_build_object('location', v, 'user_agent', v), 'occurred_at', iso_ms(at))::text
                FROM e""".formatted(acceptedAt))) {
            ps.setString(1, organizationId);
            ps.setString(2, organizationId + "_" + day);
            ps.setString(3, value);
            ps.setString(4, "2024-03-0" + (day + 1) + "T00:00:00Z");
            ps.executeUpdate();
        }
    }

    private static AuditLogExport awaitReady(String id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        AuditLogExport export = workos.getAuditLogs().getExport(id);
        while (export.getState() != AuditLogExportState.Ready && System.nanoTime() < deadline) {
            Thread.sleep(100);
            export = workos.getAuditLogs().getExport(id);
        }
        assertThat(export.getState()).isEqualTo(AuditLogExportState.Ready);
        assertThat(export.getUrl()).startsWith(service.baseUrl() + "/exports/" + id + "/audit_logs_export.csv?");
        return export;
    }

    /** Downloads without the API key: the link's signature is the authorization. */
    private static List<CSVRecord> csv(String url) throws Exception {
        HttpResponse<String> response = RunningService.sendRaw(HttpRequest.newBuilder(URI.create(url)).build());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/csv");
        assertThat(response.headers().firstValue("Content-Disposition").orElse("")).contains("audit_logs_export.csv");
        try (CSVParser parser = CSVParser.parse(new StringReader(response.body()),
                CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get())) {
            assertThat(parser.getHeaderNames()).containsExactly("id", "action", "occurred_at", "actor_id", "actor_type",
                    "actor_name", "targets", "location", "user_agent", "metadata");
            return parser.getRecords();
        }
    }

    private static String storedById(String id) throws Exception {
        try (var c = service.dataSource().getConnection();
             var ps = c.prepareStatement("SELECT event FROM audit_event WHERE id = ?")) {
            ps.setString(1, id);
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
