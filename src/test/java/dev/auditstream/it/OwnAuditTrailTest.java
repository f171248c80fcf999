package dev.auditstream.it;

import static dev.auditstream.support.StreamApi.actions;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.auditstream.receivers.SplunkHec;
import dev.auditstream.support.PortalSession;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/**
 * Changes to an organization's streams, retention and exports are events in its own log: who (an API key or a portal
 * session, never its secret), what, from where; written with the change, listed and streamed like any event.
 */
class OwnAuditTrailTest {

    private static final String SPLUNK_TOKEN = "splunk-token-SECRET-4d1f0a";

    private static RunningService service;
    private static StreamApi streams;
    private static SplunkHec splunk;

    @BeforeAll
    static void start() throws Exception {
        splunk = SplunkHec.start(SPLUNK_TOKEN);
        service = RunningService.start(RunningService.newDataDir("own-audit-trail"), Map.of(
                "auditstream.audit-trail.enabled", "true",
                "auditstream.allow-private-destinations", "true",
                "auditstream.delivery.poll-interval", "100"));
        streams = new StreamApi(service);
    }

    @AfterAll
    static void stop() {
        service.close();
        splunk.close();
    }

    @Test
    void streamChangesThroughTheApiAreRecordedWithTheKeyAsActor() throws Exception {
        String org = service.createOrganization("Audited Org");
        String id = streams.create("{\"organization_id\":\"" + org + "\",\"type\":\"Splunk\",\"name\":\"SIEM\","
                + "\"config\":{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"" + SPLUNK_TOKEN + "\"}}")
                .get("id").asText();

        JsonNode created = only(org, "log_stream.created");
        assertThat(created.get("actor")).isEqualTo(TestJson.read(
                "{\"id\":\"key_" + sha256Hex(RunningService.API_KEY).substring(0, 12) + "\",\"type\":\"api_key\"}"));
        assertThat(created.get("targets")).isEqualTo(TestJson.read(
                "[{\"id\":\"" + id + "\",\"type\":\"log_stream\",\"name\":\"SIEM\"}]"));
        assertThat(created.at("/context/location").asText()).isNotBlank().isNotEqualTo("unknown");
        assertThat(created.at("/context/user_agent").asText()).startsWith("Java-http-client");
        assertThat(created.at("/metadata/stream_type").asText()).isEqualTo("Splunk");
        assertThat(created.has("version")).isFalse();

        streams.patch(id, "{\"state\":\"inactive\"}");
        assertThat(only(org, "log_stream.paused").get("metadata")).isEqualTo(TestJson.read(
                "{\"state_from\":\"active\",\"state_to\":\"inactive\",\"stream_type\":\"Splunk\"}"));
        streams.patch(id, "{\"state\":\"active\"}");
        assertThat(only(org, "log_stream.resumed").at("/metadata/state_to").asText()).isEqualTo("active");

        String newToken = "splunk-token-SECRET-77e2b9";
        streams.patch(id, "{\"config\":{\"source\":\"billing\",\"token\":\"" + newToken + "\"}}");
        assertThat(only(org, "log_stream.updated").at("/metadata/changed").asText())
                .isEqualTo("config.source,config.token");

        // a change and a pause in one PATCH: both are recorded
        streams.patch(id, "{\"name\":\"Renamed\",\"state\":\"inactive\"}");
        assertThat(events(org, "log_stream.updated")).first().satisfies(updated -> {
            assertThat(updated.at("/metadata/changed").asText()).isEqualTo("name");
            assertThat(updated.at("/targets/0/name").asText()).isEqualTo("Renamed");
        });
        assertThat(events(org, "log_stream.paused")).hasSize(2);

        // nothing changed, nothing recorded
        streams.patch(id, "{\"name\":\"Renamed\",\"state\":\"inactive\"}");
        assertThat(events(org, "log_stream.updated")).hasSize(2);
        assertThat(events(org, "log_stream.paused")).hasSize(2);

        assertThat(service.post("/log_streams/" + id + "/test", "{}").statusCode()).isEqualTo(200);
        assertThat(only(org, "log_stream.tested").at("/metadata/success").asText()).isIn("true", "false");

        assertThat(service.send(HttpRequest.newBuilder(service.uri("/log_streams/" + id)).DELETE()).statusCode())
                .isEqualTo(204);
        assertThat(only(org, "log_stream.deleted").at("/targets/0/id").asText()).isEqualTo(id);

        assertThat(storedEvents()).noneMatch(e -> e.contains(SPLUNK_TOKEN) || e.contains(newToken)
                || e.contains(RunningService.API_KEY));
    }

    @Test
    void retentionAndExportsAreRecorded() throws Exception {
        String org = service.createOrganization("Retention Org");
        String retention = "/organizations/" + org + "/audit_logs_retention";
        assertThat(service.put(retention, "{\"retention_period_in_days\":30}").statusCode()).isEqualTo(200);
        JsonNode changed = only(org, "audit_logs.retention_changed");
        assertThat(changed.get("targets")).isEqualTo(TestJson.read(
                "[{\"id\":\"" + org + "\",\"type\":\"organization\",\"name\":\"Retention Org\"}]"));
        assertThat(changed.get("metadata")).isEqualTo(TestJson.read(
                "{\"retention_days_from\":\"365\",\"retention_days_to\":\"30\"}"));
        assertThat(service.put(retention, "{\"retention_period_in_days\":30}").statusCode()).isEqualTo(200);
        assertThat(events(org, "audit_logs.retention_changed")).hasSize(1);

        HttpResponse<String> export = service.post("/audit_logs/exports", "{\"organization_id\":\"" + org
                + "\",\"range_start\":\"2024-01-01T00:00:00Z\",\"range_end\":\"2024-02-01T00:00:00Z\"}");
        assertThat(export.statusCode()).isEqualTo(201);
        JsonNode exportCreated = only(org, "audit_logs.export_created");
        assertThat(exportCreated.get("targets")).isEqualTo(TestJson.read("[{\"id\":\""
                + TestJson.read(export.body()).get("id").asText() + "\",\"type\":\"audit_log_export\"}]"));
        assertThat(exportCreated.at("/actor/type").asText()).isEqualTo("api_key");
    }

    @Test
    void portalChangesNameTheSessionNotItsToken() throws Exception {
        String org = service.createOrganization("Portal Org");
        PortalSession portal = PortalSession.open(service, org);
        HttpResponse<String> created = portal.send("POST", "/portal/api/streams", "{\"type\":\"Splunk\",\"config\":"
                + "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"" + SPLUNK_TOKEN + "\"}}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String id = TestJson.read(created.body()).get("id").asText();
        assertThat(portal.send("PATCH", "/portal/api/streams/" + id, "{\"state\":\"inactive\"}").statusCode())
                .isEqualTo(200);

        for (String action : List.of("log_stream.created", "log_stream.paused")) {
            JsonNode actor = only(org, action).get("actor");
            assertThat(actor.get("type").asText()).isEqualTo("portal_session");
            assertThat(actor.get("name").asText()).isEqualTo("Admin Portal");
            assertThat(actor.get("id").asText()).startsWith("portal_session_");
        }
        String token = portal.cookie().substring(portal.cookie().indexOf('=') + 1);
        assertThat(storedEvents()).noneMatch(e -> e.contains(token) || e.contains(SPLUNK_TOKEN));
    }

    @Test
    void aRefusedChangeRecordsNothing() throws Exception {
        String org = service.createOrganization("Refused Org");
        HttpResponse<String> bad = service.post("/log_streams", "{\"organization_id\":\"" + org
                + "\",\"type\":\"Splunk\",\"config\":{\"url\":\"" + splunk.baseUrl() + "\",\"token\":5}}");
        assertThat(bad.statusCode()).isEqualTo(422);
        assertThat(events(org, null)).isEmpty();

        String id = streams.create(org, "Splunk", "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\""
                + SPLUNK_TOKEN + "\"}").get("id").asText();
        HttpResponse<String> badPatch = service.send(HttpRequest.newBuilder(service.uri("/log_streams/" + id))
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"state\":\"asleep\"}")));
        assertThat(badPatch.statusCode()).isEqualTo(422);
        assertThat(service.put("/organizations/" + org + "/audit_logs_retention", "{\"retention_period_in_days\":7}")
                .statusCode()).isEqualTo(422);
        assertThat(actions(events(org, null))).containsExactly("log_stream.created");
    }

    @Test
    void theOrganizationsStreamsReceiveTheOwnEvents() throws Exception {
        String org = service.createOrganization("Streamed Org");
        String id = streams.create(org, "Splunk", "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\""
                + SPLUNK_TOKEN + "\"}").get("id").asText();
        streams.patch(id, "{\"name\":\"Security SIEM\"}");

        RunningService.await("the stream delivered its own update", () -> splunk.events().stream()
                .anyMatch(e -> e.get("action").asText().equals("log_stream.updated")
                        && e.at("/targets/0/id").asText().equals(id)));
        JsonNode delivered = splunk.events().stream()
                .filter(e -> e.get("action").asText().equals("log_stream.updated")
                        && e.at("/targets/0/id").asText().equals(id))
                .findFirst().orElseThrow();
        assertThat(delivered.at("/metadata/changed").asText()).isEqualTo("name");
        assertThat(delivered.at("/actor/type").asText()).isEqualTo("api_key");
        assertThat(delivered.toString()).doesNotContain(SPLUNK_TOKEN);
    }

    /** The organization's events with this action (all, for null), newest first, as GET /audit_logs/events lists them. */
    private static List<JsonNode> events(String org, String action) throws Exception {
        HttpResponse<String> response = service.get("/audit_logs/events?organization_id=" + org + "&limit=100"
                + (action == null ? "" : "&actions=" + action));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        List<JsonNode> events = new ArrayList<>();
        TestJson.read(response.body()).get("data").forEach(events::add);
        return events;
    }

    private static JsonNode only(String org, String action) throws Exception {
        List<JsonNode> events = events(org, action);
        assertThat(events).as(action).hasSize(1);
        return events.get(0);
    }

    private static List<String> storedEvents() throws Exception {
        List<String> events = new ArrayList<>();
        try (Connection c = service.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT event::text FROM audit_event")) {
            while (rs.next()) {
                events.add(rs.getString(1));
            }
        }
        return events;
    }

    private static String sha256Hex(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
