package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;
import org.apache.camel.Route;
import org.apache.camel.component.bean.BeanConstants;
import org.apache.camel.component.platform.http.PlatformHttpEndpoint;
import org.apache.camel.component.sql.SqlConstants;
import org.apache.camel.spi.RestRegistry;
import org.apache.camel.support.PluginHelper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.auditstream.receivers.ConnectionTrap;
import dev.auditstream.receivers.DatadogIntake;
import dev.auditstream.support.PortalSession;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/**
 * A caller who knows Camel. Every route of the API and the portal gets the control headers Camel's components read,
 * as request headers and as query parameters, in several letter cases: each answer is the one the same call gets
 * without them, no hostile SQL runs and no hostile URL is called. And an organization never reaches another's objects.
 */
class HostileCallerTest {

    /**
     * The control headers most worth forging (CamelAwsS3Key too, though no route uses an object-store component),
     * sent on every hostile call; the components' other headers are spread over them.
     */
    private static final List<String> ALWAYS = List.of(SqlConstants.SQL_QUERY, Exchange.HTTP_URI, Exchange.HTTP_PATH,
            Exchange.HTTP_QUERY, Exchange.HTTP_METHOD, Exchange.HTTP_RESPONSE_CODE, "CamelAwsS3Key",
            Exchange.FILE_NAME, BeanConstants.BEAN_METHOD_NAME);
    private static final List<Function<String, String>> LETTER_CASES = List.of(
            name -> name, name -> name.toLowerCase(Locale.ROOT), name -> name.toUpperCase(Locale.ROOT));
    private static final String RAN = "INSERT INTO hostile_canary (note) ";
    /** CamelSqlQuery with 0 to 3 parameters, so one of them fits each sql: step's parametersCount. */
    private static final List<String> HOSTILE_SQL = List.of(
            RAN + "VALUES ('ran')",
            RAN + "SELECT 'ran' WHERE CAST(:#${header.id} AS text) IS NULL OR TRUE",
            RAN + "SELECT 'ran' WHERE CAST(:#${header.id} AS text) IS NULL OR CAST(:#${header.id} AS text) IS NULL OR TRUE",
            RAN + "SELECT 'ran' WHERE CAST(:#${header.id} AS text) IS NULL OR CAST(:#${header.id} AS text) IS NULL "
                    + "OR CAST(:#${header.id} AS text) IS NULL OR TRUE");
    private static final String EVENT_RANGE = "\"range_start\":\"2024-01-01T00:00:00Z\",\"range_end\":\"2025-01-01T00:00:00Z\"";

    private static RunningService service;
    private static DatadogIntake datadog;
    private static ConnectionTrap canary;
    /** The organization whose routes are swept with hostile names, its portal session, a stream and an export. */
    private static String swept;
    private static PortalSession sweptPortal;
    private static String sweptStream;
    private static String sweptExport;
    private static String sweptDownload;
    private static String sweptLinkToken;
    /** Two quiet organizations (streams paused): A's objects, and B trying to reach them. */
    private static String orgA;
    private static String orgB;
    private static PortalSession portalB;
    private static String streamA;
    private static String streamB;
    private static String exportA;

    @BeforeAll
    static void start() throws Exception {
        datadog = DatadogIntake.start("dd-hostile-0000000000");
        canary = ConnectionTrap.open();
        service = RunningService.start(RunningService.newDataDir("hostile"), Map.of(
                "auditstream.audit-trail.enabled", "true",
                "auditstream.allow-private-destinations", "true",
                "auditstream.datadog.intake-url", datadog.baseUrl(),
                "auditstream.portal.link-lifetime", "PT30M",
                // the sweep calls each route a few dozen times for one organization
                "auditstream.stream-tests.per-minute", "10000",
                "auditstream.streams.max-per-organization", "1000"));
        service.execute("CREATE TABLE hostile_canary (note text)");
        StreamApi streams = new StreamApi(service);

        swept = TestJson.read(service.post("/organizations", "{\"name\":\"Swept\",\"external_id\":\"swept\"}")
                .body()).get("id").asText();
        sweptPortal = PortalSession.open(service, swept);
        sweptStream = datadogStream(swept);
        streams.send(swept, "hostile.seed", 2);
        sweptExport = export(swept);
        sweptDownload = downloadPath(sweptExport);
        String link = TestJson.read(service.post("/portal/generate_link",
                "{\"organization\":\"" + swept + "\",\"intent\":\"log_streams\"}").body()).get("link").asText();
        sweptLinkToken = link.substring(link.indexOf("token=") + "token=".length());

        orgA = service.createOrganization("Org A");
        orgB = service.createOrganization("Org B");
        portalB = PortalSession.open(service, orgB);
        streamA = pausedStream(orgA);
        streamB = pausedStream(orgB);
        streams.send(orgA, "hostile.seed", 2);
        streams.send(orgB, "hostile.seed", 2);
        exportA = export(orgA);
        downloadPath(exportA);
    }

    @AfterAll
    static void stop() throws Exception {
        service.close();
        datadog.close();
        canary.close();
    }

    /** The reproduction: a portal session of one organization asks for its own stream with a query of its own. */
    @Test
    void aPortalSessionsSqlHeaderReadsNothingButItsOwnStream() throws Exception {
        String everyonesStreams = "SELECT string_agg(json, ',') AS json FROM log_stream_json WHERE "
                + ":#${header.id} IS NOT NULL OR :#${header.id} IS NULL OR :#${header.id} IS NULL";
        for (boolean asQuery : List.of(false, true)) {
            HttpRequest.Builder request = portalB.request("GET", "/portal/api/streams/" + streamB
                    + (asQuery ? "?CamelSqlQuery=" + encode(everyonesStreams) : ""), null);
            if (!asQuery) {
                request.header("CamelSqlQuery", everyonesStreams);
            }
            HttpResponse<String> answer = RunningService.sendRaw(request.build());
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            JsonNode stream = TestJson.read(answer.body());
            assertThat(stream.get("id").asText()).isEqualTo(streamB);
            assertThat(stream.get("organization_id").asText()).isEqualTo(orgB);
            assertThat(answer.body()).doesNotContain(orgA).doesNotContain(streamA).doesNotContain(sweptStream);
        }
    }

    @Test
    void everyRouteAnswersCamelHeadersAndQueryParametersAsIfTheyWereNotThere() throws Exception {
        Map<String, Call> calls = calls();
        assertThat(calls.keySet()).as("every HTTP route has a call here")
                .containsExactlyInAnyOrderElementsOf(httpRoutes());
        Map<String, String> quietBefore = snapshot(orgA);
        quietBefore.putAll(snapshot(orgB));
        List<String> others = new ArrayList<>(componentHeaders());
        others.removeAll(ALWAYS);
        int variants = HOSTILE_SQL.size() * 2 * LETTER_CASES.size();
        List<String> differences = new ArrayList<>();
        for (Map.Entry<String, Call> route : calls.entrySet()) {
            String expected = answer(route.getValue().request(Map.of(), false));
            for (int variant = 0; variant < variants; variant++) {
                String sql = HOSTILE_SQL.get(variant % HOSTILE_SQL.size());
                boolean asQuery = (variant / HOSTILE_SQL.size()) % 2 == 1;
                Function<String, String> letterCase = LETTER_CASES.get(variant / (HOSTILE_SQL.size() * 2));
                Map<String, String> hostile = new LinkedHashMap<>();
                for (String name : ALWAYS) {
                    hostile.put(letterCase.apply(name), hostileValue(name, sql));
                }
                // the others in slices, so each one is sent on every route
                for (int i = variant; i < others.size(); i += variants) {
                    hostile.put(letterCase.apply(others.get(i)), hostileValue(others.get(i), sql));
                }
                String actual = answer(route.getValue().request(hostile, asQuery));
                if (!actual.equals(expected)) {
                    differences.add("%s with %s as %s: %s, without: %s".formatted(route.getKey(), hostile.keySet(),
                            asQuery ? "query parameters" : "headers", actual, expected));
                }
            }
        }
        assertThat(service.count("SELECT count(*) FROM hostile_canary")).as("hostile SQL ran").isZero();
        assertThat(canary.connections()).as("connections to a hostile CamelHttpUri").isZero();
        Map<String, String> quietAfter = snapshot(orgA);
        quietAfter.putAll(snapshot(orgB));
        assertThat(quietAfter).isEqualTo(quietBefore);
        assertThat(differences).isEmpty();
    }

    /**
     * Organization B, through its portal session and through the API naming it, tries every read and write on
     * organization A's objects: each is a 404 (a download signed for B's export is a 403 on A's), and nothing of A
     * changes.
     */
    @Test
    void anotherOrganizationReachesNothingOfOrganizationA() throws Exception {
        String paused = streamA;
        String downloadB = downloadPath(export(orgB));
        Map<String, String> before = snapshot(orgA);

        String asB = "?organization_id=" + orgB;
        String[][] apiCalls = {
            {"GET", "/log_streams/" + paused + asB, null},
            {"PATCH", "/log_streams/" + paused + asB, "{\"state\":\"active\",\"name\":\"Taken\"}"},
            {"DELETE", "/log_streams/" + paused + asB, null},
            {"POST", "/log_streams/" + paused + "/test" + asB, "{}"},
            {"POST", "/log_streams/" + paused + "/replay" + asB, "{\"from\":\"2024-01-01T00:00:00.000Z\"}"},
            {"POST", "/log_streams/" + paused + "/signing_secret/rotate" + asB, "{}"},
            {"POST", "/log_streams/" + paused + "/dead_letters/redrive" + asB, "{}"},
            {"GET", "/log_streams/" + paused + "/setup" + asB, null},
            {"GET", "/log_streams/" + paused + "/deliveries" + asB, null},
            {"GET", "/log_streams/" + paused + "/state_changes" + asB, null},
            {"GET", "/audit_logs/exports/" + exportA + asB, null},
            {"GET", "/organizations/" + orgA + "/audit_logs_retention" + asB, null},
            {"PUT", "/organizations/" + orgA + "/audit_logs_retention" + asB, "{\"retention_period_in_days\":30}"},
            {"GET", "/organizations/" + orgA + "/audit_log_configuration" + asB, null}};
        for (String[] call : apiCalls) {
            HttpResponse<String> answer = service.send(HttpRequest.newBuilder(service.uri(call[1]))
                    .method(call[0], body(call[2])));
            assertThat(answer.statusCode()).as("%s %s: %s", call[0], call[1], answer.body()).isEqualTo(404);
        }
        String[][] portalCalls = {
            {"GET", "", null}, {"PATCH", "", "{\"state\":\"active\"}"}, {"DELETE", "", null},
            {"POST", "/test", "{}"}, {"GET", "/setup", null}, {"POST", "/signing_secret/rotate", "{}"},
            {"POST", "/dead_letters/redrive", "{}"}};
        for (String[] call : portalCalls) {
            HttpResponse<String> answer = portalB.send(call[0], "/portal/api/streams/" + paused + call[1]
                    + "?organization_id=" + orgA, call[2]);
            assertThat(answer.statusCode()).as("portal %s %s: %s", call[0], call[1], answer.body()).isEqualTo(404);
        }
        JsonNode listed = TestJson.read(portalB.send("GET", "/portal/api/streams?organization_id=" + orgA, null).body());
        assertThat(listed.get("data")).extracting(stream -> stream.get("organization_id").asText()).containsOnly(orgB);
        // B's list: the events sent for B, and B's own trail (its stream created and paused, its export), nothing of A
        JsonNode events = TestJson.read(service.get("/audit_logs/events" + asB + "&limit=100").body());
        assertThat(events.get("data")).isNotEmpty().filteredOn(event -> event.at("/actor/type").asText().equals("user"))
                .extracting(event -> event.at("/actor/name").asText()).containsOnly(orgB);
        assertThat(events.toString()).doesNotContain(orgA).doesNotContain(streamA).doesNotContain(exportA);
        String signedForB = downloadB.substring(downloadB.indexOf('?'));
        HttpResponse<String> download = RunningService.sendRaw(HttpRequest.newBuilder(
                service.uri("/exports/" + exportA + "/audit_logs_export.csv" + signedForB)).build());
        assertThat(download.statusCode()).isEqualTo(403);
        assertThat(download.body()).doesNotContain("hostile.seed");

        assertThat(snapshot(orgA)).isEqualTo(before);
    }

    /** How to make a valid call of each route: a fresh one each time, with the hostile names added. */
    private static Map<String, Call> calls() {
        Map<String, Call> calls = new TreeMap<>();
        String event = TestJson.event(swept, "hostile.event");
        String stream = "{\"organization_id\":\"" + swept + "\",\"type\":\"Datadog\",\"config\":{\"apiKey\":\"dd-hostile-0000000000\"}}";
        api(calls, "POST", "/organizations", () -> "/organizations", "{\"name\":\"Created\"}");
        api(calls, "GET", "/organizations", () -> "/organizations?limit=2", null);
        api(calls, "GET", "/organizations/{id}", () -> "/organizations/" + swept, null);
        api(calls, "GET", "/organizations/external_id/{external_id}", () -> "/organizations/external_id/swept", null);
        api(calls, "GET", "/organizations/{id}/audit_logs_retention", () -> "/organizations/" + swept + "/audit_logs_retention", null);
        api(calls, "PUT", "/organizations/{id}/audit_logs_retention", () -> "/organizations/" + swept + "/audit_logs_retention",
                "{\"retention_period_in_days\":365}");
        api(calls, "GET", "/organizations/{id}/audit_log_configuration",
                () -> "/organizations/" + swept + "/audit_log_configuration", null);
        api(calls, "GET", "/organizations/{id}/alert_contacts", () -> "/organizations/" + swept + "/alert_contacts", null);
        api(calls, "PUT", "/organizations/{id}/alert_contacts", () -> "/organizations/" + swept + "/alert_contacts",
                "{\"emails\":[\"it@swept.test\"]}");
        api(calls, "GET", "/organizations/{id}/usage", () -> "/organizations/" + swept + "/usage", null);
        api(calls, "GET", "/usage", () -> "/usage?limit=2", null);
        api(calls, "GET", "/egress", () -> "/egress", null);
        api(calls, "POST", "/audit_logs/events", () -> "/audit_logs/events", event);
        api(calls, "GET", "/audit_logs/events", () -> "/audit_logs/events?organization_id=" + swept + "&limit=2", null);
        api(calls, "POST", "/audit_logs/actions/{action}/schemas", () -> "/audit_logs/actions/hostile.schema/schemas",
                "{\"targets\":[{\"type\":\"user\"}]}");
        api(calls, "GET", "/audit_logs/actions/{action}/schemas", () -> "/audit_logs/actions/hostile.schema/schemas", null);
        api(calls, "GET", "/audit_logs/actions", () -> "/audit_logs/actions", null);
        api(calls, "POST", "/audit_logs/exports", () -> "/audit_logs/exports",
                "{\"organization_id\":\"" + swept + "\"," + EVENT_RANGE + "}");
        api(calls, "GET", "/audit_logs/exports/{id}", () -> "/audit_logs/exports/" + sweptExport, null);
        api(calls, "POST", "/portal/generate_link", () -> "/portal/generate_link",
                "{\"organization\":\"" + swept + "\",\"intent\":\"log_streams\"}");
        api(calls, "POST", "/log_streams", () -> "/log_streams", stream);
        api(calls, "GET", "/log_streams", () -> "/log_streams?organization_id=" + swept, null);
        api(calls, "GET", "/log_streams/{id}", () -> "/log_streams/" + sweptStream, null);
        api(calls, "PATCH", "/log_streams/{id}", () -> "/log_streams/" + sweptStream, "{\"name\":\"Renamed\"}");
        api(calls, "DELETE", "/log_streams/{id}", () -> "/log_streams/" + datadogStream(swept), null);
        api(calls, "POST", "/log_streams/{id}/test", () -> "/log_streams/" + sweptStream + "/test", "{}");
        api(calls, "POST", "/log_streams/{id}/replay", () -> "/log_streams/" + sweptStream + "/replay",
                "{\"from\":\"2024-01-01T00:00:00.000Z\"}");
        api(calls, "GET", "/log_streams/{id}/deliveries", () -> "/log_streams/" + sweptStream + "/deliveries", null);
        api(calls, "GET", "/log_streams/{id}/state_changes", () -> "/log_streams/" + sweptStream + "/state_changes", null);
        api(calls, "GET", "/log_streams/{id}/setup", () -> "/log_streams/" + sweptStream + "/setup", null);
        api(calls, "POST", "/log_streams/test", () -> "/log_streams/test", stream);
        portal(calls, "POST", "/portal/api/streams/test", () -> "/portal/api/streams/test", stream);
        api(calls, "POST", "/log_streams/{id}/signing_secret/rotate",
                () -> "/log_streams/" + sweptStream + "/signing_secret/rotate", "{}");
        api(calls, "POST", "/log_streams/{id}/dead_letters/redrive",
                () -> "/log_streams/" + sweptStream + "/dead_letters/redrive", "{}");

        portal(calls, "GET", "/portal/api/session", () -> "/portal/api/session", null);
        portal(calls, "GET", "/portal/api/egress", () -> "/portal/api/egress", null);
        portal(calls, "GET", "/portal/api/alert_contacts", () -> "/portal/api/alert_contacts", null);
        portal(calls, "PUT", "/portal/api/alert_contacts", () -> "/portal/api/alert_contacts",
                "{\"emails\":[\"it@swept.test\"]}");
        portal(calls, "GET", "/portal/api/streams", () -> "/portal/api/streams", null);
        portal(calls, "POST", "/portal/api/streams", () -> "/portal/api/streams", stream);
        portal(calls, "GET", "/portal/api/streams/{id}", () -> "/portal/api/streams/" + sweptStream, null);
        portal(calls, "PATCH", "/portal/api/streams/{id}", () -> "/portal/api/streams/" + sweptStream, "{\"name\":\"Renamed\"}");
        portal(calls, "DELETE", "/portal/api/streams/{id}", () -> "/portal/api/streams/" + datadogStream(swept), null);
        portal(calls, "POST", "/portal/api/streams/{id}/test", () -> "/portal/api/streams/" + sweptStream + "/test", "{}");
        portal(calls, "GET", "/portal/api/streams/{id}/setup", () -> "/portal/api/streams/" + sweptStream + "/setup", null);
        portal(calls, "POST", "/portal/api/streams/{id}/signing_secret/rotate",
                () -> "/portal/api/streams/" + sweptStream + "/signing_secret/rotate", "{}");
        portal(calls, "POST", "/portal/api/streams/{id}/dead_letters/redrive",
                () -> "/portal/api/streams/" + sweptStream + "/dead_letters/redrive", "{}");
        open(calls, "/portal/log-streams", () -> "/portal/log-streams?token=" + sweptLinkToken);
        open(calls, "/portal/assets/{file}", () -> "/portal/assets/app.js");
        open(calls, "/exports/{id}/audit_logs_export.csv", () -> sweptDownload);
        return calls;
    }

    /** A path for a fresh call (it may create what the call acts on). */
    private interface Target {
        String path() throws Exception;
    }

    /** One call of a route, as its legitimate caller makes it, plus hostile names as headers or query parameters. */
    private interface Call {
        HttpRequest request(Map<String, String> hostile, boolean asQuery) throws Exception;
    }

    private static void api(Map<String, Call> calls, String method, String route, Target target, String body) {
        calls.put(method + " " + route, (hostile, asQuery) -> RunningService.authorized(
                hostile(HttpRequest.newBuilder(), target.path(), hostile, asQuery)).method(method, body(body)).build());
    }

    private static void portal(Map<String, Call> calls, String method, String route, Target target, String body) {
        calls.put(method + " " + route, (hostile, asQuery) -> {
            HttpRequest.Builder request = sweptPortal.request(method, "/", body);
            return hostile(request, target.path(), hostile, asQuery).build();
        });
    }

    /** Routes behind no API key and no session: the page, its assets, a signed download. */
    private static void open(Map<String, Call> calls, String route, Target target) {
        calls.put("GET " + route, (hostile, asQuery) ->
                hostile(HttpRequest.newBuilder(), target.path(), hostile, asQuery).GET().build());
    }

    private static HttpRequest.Builder hostile(HttpRequest.Builder request, String path, Map<String, String> hostile,
                                               boolean asQuery) {
        StringBuilder uri = new StringBuilder(path);
        hostile.forEach((name, value) -> {
            if (asQuery) {
                uri.append(uri.indexOf("?") < 0 ? '?' : '&').append(encode(name)).append('=').append(encode(value));
            } else {
                request.header(name, value);
            }
        });
        return request.uri(service.uri(uri.toString())).timeout(Duration.ofSeconds(30));
    }

    private static HttpRequest.BodyPublisher body(String body) {
        return body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body);
    }

    /** Status and shape: the JSON structure without values (they change from call to call), or the body itself. */
    private static String answer(HttpRequest request) throws Exception {
        HttpResponse<String> response = RunningService.sendRaw(request);
        String contentType = response.headers().firstValue("Content-Type").orElse("");
        String shape = contentType.startsWith("application/json") ? structure(response.body()) : response.body();
        return response.statusCode() + " " + contentType + " " + shape;
    }

    private static String structure(String json) {
        try {
            return structure(TestJson.read(json));
        } catch (java.io.UncheckedIOException notJson) {
            return "not JSON: " + json;
        }
    }

    private static String structure(JsonNode node) {
        if (node.isObject()) {
            Map<String, String> members = new TreeMap<>();
            node.fields().forEachRemaining(member -> members.put(member.getKey(), structure(member.getValue())));
            return members.toString();
        }
        return node.isArray() ? "[]" : "value";
    }

    /** The hostile value of a header: our own URL for URIs, a method that deletes, SQL that leaves a trace, ... */
    private static String hostileValue(String name, String sql) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals("camelsqlquery")) {
            return sql;
        }
        if (lower.contains("uri") || lower.contains("url")) {
            return "http://127.0.0.1:" + canary.port() + "/hostile";
        }
        if (lower.endsWith("method") || lower.endsWith("operation")) {
            return "DELETE";
        }
        if (lower.contains("responsecode")) {
            return "299";
        }
        if (lower.contains("path") || lower.contains("key") || lower.contains("name") || lower.contains("query")) {
            return "../../hostile";
        }
        return "true";
    }

    /** Every header name the components the routes use declare (they read them from the exchange). */
    private static List<String> componentHeaders() throws IllegalAccessException {
        Set<String> names = new TreeSet<>(ALWAYS);
        for (Class<?> constants : List.of(SqlConstants.class, BeanConstants.class, Exchange.class)) {
            for (Field field : constants.getFields()) {
                if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class
                        && ((String) field.get(null)).startsWith("Camel")) {
                    names.add((String) field.get(null));
                }
            }
        }
        names.add("org.apache.camel.Hostile");
        return new ArrayList<>(names);
    }

    /** "METHOD /path" of every HTTP route the running service has: the REST API's and the platform-http ones. */
    private static Set<String> httpRoutes() {
        Set<String> routes = new TreeSet<>();
        for (RestRegistry.RestService rest : PluginHelper.getRestRegistry(service.context()).listAllRestServices()) {
            routes.add(rest.getMethod().toUpperCase(Locale.ROOT) + " " + rest.getBasePath()
                    + (rest.getUriTemplate() == null ? "" : rest.getUriTemplate()));
        }
        for (Route route : service.context().getRoutes()) {
            if (route.getEndpoint() instanceof PlatformHttpEndpoint http) {
                for (String method : http.getHttpMethodRestrict().split(",")) {
                    routes.add(method.trim() + " " + http.getPath());
                }
            }
        }
        return routes;
    }

    /** Everything of an organization that a call from elsewhere must not change. */
    private static Map<String, String> snapshot(String organizationId) throws Exception {
        Map<String, String> rows = new TreeMap<>();
        String[] queries = {
            "SELECT 'organization', row_to_json(t)::text FROM organization t WHERE id = ?",
            "SELECT 'stream ' || id, row_to_json(t)::text FROM log_stream t WHERE organization_id = ?",
            "SELECT 'delivery ' || d.id, row_to_json(d)::text FROM log_stream_delivery d JOIN log_stream s ON s.id = d.stream_id WHERE s.organization_id = ?",
            "SELECT 'transition ' || x.id, row_to_json(x)::text FROM log_stream_transition x JOIN log_stream s ON s.id = x.stream_id WHERE s.organization_id = ?",
            "SELECT 'export ' || id, row_to_json(t)::text FROM audit_log_export t WHERE organization_id = ?",
            "SELECT 'events', count(*)::text FROM audit_event WHERE organization_id = ?"};
        try (Connection c = service.dataSource().getConnection()) {
            for (String query : queries) {
                try (var ps = c.prepareStatement(query)) {
                    ps.setString(1, organizationId);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            rows.put(rs.getString(1), rs.getString(2));
                        }
                    }
                }
            }
        }
        return rows;
    }

    /** A stream that delivers nothing, so its organization stays as it is while the tests run. */
    private static String pausedStream(String organizationId) throws Exception {
        String id = datadogStream(organizationId);
        new StreamApi(service).patch(id, "{\"state\":\"inactive\"}");
        return id;
    }

    private static String datadogStream(String organizationId) throws Exception {
        return new StreamApi(service).create(organizationId, "Datadog", "{\"apiKey\":\"dd-hostile-0000000000\"}")
                .get("id").asText();
    }

    private static String export(String organizationId) throws Exception {
        HttpResponse<String> created = service.post("/audit_logs/exports",
                "{\"organization_id\":\"" + organizationId + "\"," + EVENT_RANGE + "}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return TestJson.read(created.body()).get("id").asText();
    }

    /** The path and query of a ready export's signed download link. */
    private static String downloadPath(String exportId) throws Exception {
        URI url = URI.create(service.awaitReadyExport(exportId).get("url").asText());
        return url.getRawPath() + "?" + url.getRawQuery();
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
