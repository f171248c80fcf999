package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import dev.auditstream.support.PortalSession;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/**
 * Requests are read for what they are: an API key, the portal's CSRF header, a request id or an idempotency key only
 * from real request headers (never a query parameter or a form field), a path parameter over a query parameter of
 * the same name, JSON bodies on portal writes. Every answer carries the browser security headers, and the
 * unauthenticated management port is on loopback only.
 */
class RequestHardeningTest {

    private static RunningService service;
    private static String org;
    private static PortalSession portal;

    @BeforeAll
    static void start() throws Exception {
        // served over https as far as clients are told: HSTS
        service = RunningService.start(RunningService.newDataDir("hardening"),
                Map.of("auditstream.public-url", "https://audit.example.test"));
        org = service.createOrganization("Hardened");
        portal = PortalSession.open(service, org);
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    @Test
    void anApiKeyCountsOnlyInTheAuthorizationHeader() throws Exception {
        for (String name : List.of("Authorization", "authorization", "AUTHORIZATION")) {
            HttpResponse<String> inQuery = RunningService.sendRaw(HttpRequest.newBuilder(service.uri(
                    "/organizations?" + name + "=Bearer%20" + RunningService.API_KEY)).build());
            assertThat(inQuery.statusCode()).as(name).isEqualTo(401);
        }
        HttpResponse<String> inForm = RunningService.sendRaw(HttpRequest.newBuilder(service.uri("/organizations"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("Authorization=Bearer+" + RunningService.API_KEY + "&name=x"))
                .build());
        assertThat(inForm.statusCode()).isEqualTo(401);
        assertThat(service.get("/organizations").statusCode()).isEqualTo(200);
    }

    @Test
    void thePortalsCsrfHeaderCountsOnlyAsAHeaderAndItsWritesOnlyAsJson() throws Exception {
        String stream = "{\"type\":\"Datadog\",\"config\":{\"apiKey\":\"dd-hardened-000000000\"}}";
        HttpRequest.Builder headerInQuery = HttpRequest.newBuilder(service.uri(
                "/portal/api/streams?X-AuditStream-Portal=1")).header("Cookie", portal.cookie())
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(stream));
        assertThat(RunningService.sendRaw(headerInQuery.build()).statusCode()).isEqualTo(403);
        HttpRequest.Builder headerInForm = HttpRequest.newBuilder(service.uri("/portal/api/streams"))
                .header("Cookie", portal.cookie()).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("X-AuditStream-Portal=1&type=Datadog"));
        // refused as a form before the header is even looked for
        assertThat(RunningService.sendRaw(headerInForm.build()).statusCode()).isEqualTo(415);

        // what a form or a beacon on another site could send: the session cookie and a body that is not JSON
        for (String contentType : List.of("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")) {
            HttpResponse<String> notJson = RunningService.sendRaw(portal.request("POST", "/portal/api/streams", stream)
                    .setHeader("Content-Type", contentType).build());
            assertThat(notJson.statusCode()).as(contentType).isEqualTo(415);
            assertThat(TestJson.read(notJson.body()).get("code").asText()).isEqualTo("unsupported_media_type");
        }
        HttpResponse<String> tooLarge = portal.send("POST", "/portal/api/streams",
                stream.replace("}}", "},\"name\":\"" + "x".repeat(300_000) + "\"}"));
        assertThat(tooLarge.statusCode()).isEqualTo(413);
        assertThat(service.count("SELECT count(*) FROM log_stream WHERE organization_id = '" + org + "'")).isZero();

        assertThat(portal.send("POST", "/portal/api/streams", stream).statusCode()).isEqualTo(201);
    }

    @Test
    void anIdempotencyKeyOrRequestIdCountsOnlyAsAHeader() throws Exception {
        String event = TestJson.event(org, "hardened.retry");
        for (int i = 0; i < 2; i++) {
            assertThat(service.post("/audit_logs/events?Idempotency-Key=same-key-1", event).statusCode()).isEqualTo(200);
        }
        assertThat(service.count("SELECT count(*) FROM audit_event WHERE action = 'hardened.retry'")).isEqualTo(2);

        HttpResponse<String> queried = service.get("/organizations?X-Request-ID=from-the-query");
        assertThat(queried.headers().firstValue("X-Request-ID").orElseThrow()).matches("[0-9a-f-]{36}");
    }

    @Test
    void requestIdsThatCouldForgeALogLineAreReplaced() throws Exception {
        for (String kept : List.of("trace-1.2:3_x", "a", "A".repeat(128))) {
            assertThat(requestIdAnswered(kept)).isEqualTo(kept);
        }
        for (String replaced : List.of("two words", "<script>", "A".repeat(129), "a/b", "x%0d%0aINFO forged")) {
            assertThat(requestIdAnswered(replaced)).as(replaced).matches("[0-9a-f-]{36}");
        }
    }

    @Test
    void thePathsIdWinsOverAQueryParameterOfTheSameName() throws Exception {
        String mine = new StreamApi(service).create(org, "Datadog", "{\"apiKey\":\"dd-mine-0000000000\"}")
                .get("id").asText();
        String other = new StreamApi(service).create(service.createOrganization("Other"), "Datadog",
                "{\"apiKey\":\"dd-other-000000000\"}").get("id").asText();
        HttpResponse<String> api = service.get("/log_streams/" + mine + "?id=" + other);
        assertThat(api.statusCode()).as(api.body()).isEqualTo(200);
        assertThat(TestJson.read(api.body()).get("id").asText()).isEqualTo(mine);
        HttpResponse<String> viaPortal = portal.send("GET", "/portal/api/streams/" + mine + "?id=" + other, null);
        assertThat(viaPortal.statusCode()).as(viaPortal.body()).isEqualTo(200);
        assertThat(TestJson.read(viaPortal.body()).get("id").asText()).isEqualTo(mine);
        assertThat(portal.send("GET", "/portal/api/streams/" + other + "?id=" + mine, null).statusCode())
                .isEqualTo(404);

        HttpResponse<String> twice = service.get("/log_streams?organization_id=" + org + "&organization_id=x");
        assertThat(twice.statusCode()).isEqualTo(400);
        assertThat(TestJson.read(twice.body()).get("code").asText()).isEqualTo("duplicate_parameter");
    }

    @Test
    void everyAnswerCarriesTheBrowserSecurityHeaders() throws Exception {
        String link = TestJson.read(service.post("/portal/generate_link",
                "{\"organization\":\"" + org + "\",\"intent\":\"log_streams\"}").body()).get("link").asText();
        Map<String, HttpResponse<String>> answers = Map.of(
                "API", service.get("/organizations"),
                "API error", service.get("/organizations/org_none"),
                "no API key", RunningService.sendRaw(HttpRequest.newBuilder(service.uri("/organizations")).build()),
                "portal page", RunningService.sendRaw(HttpRequest.newBuilder(
                        service.uri(link.substring(link.indexOf("/portal/")))).build()),
                "portal API", portal.send("GET", "/portal/api/streams", null),
                "portal asset", RunningService.sendRaw(HttpRequest.newBuilder(service.uri("/portal/assets/app.js")).build()),
                "download", RunningService.sendRaw(HttpRequest.newBuilder(
                        service.uri("/exports/audit_log_export_x/audit_logs_export.csv?expires=1&signature=x")).build()),
                "no route", RunningService.sendRaw(HttpRequest.newBuilder(service.uri("/nothing/here")).build()));
        answers.forEach((what, answer) -> {
            var headers = answer.headers();
            assertThat(headers.firstValue("X-Content-Type-Options")).as(what).hasValue("nosniff");
            assertThat(headers.firstValue("Referrer-Policy")).as(what).hasValue("no-referrer");
            assertThat(headers.firstValue("Cache-Control")).as(what).hasValue("no-store");
            assertThat(headers.firstValue("Content-Security-Policy").orElse("")).as(what)
                    .contains("frame-ancestors 'none'");
            assertThat(headers.firstValue("Strict-Transport-Security").orElse("")).as(what).startsWith("max-age=");
        });
        assertThat(answers.get("portal page").headers().firstValue("Content-Security-Policy").orElse(""))
                .contains("default-src 'self'");
        assertThat(answers.get("portal page").headers().firstValue("Set-Cookie").orElse("")).contains("Secure");
    }

    @Test
    void theManagementPortIsOnLoopbackAndTellsOnlyTheStatus() throws Exception {
        int port = service.managementUri("/").getPort();
        try (Socket loopback = new Socket()) {
            loopback.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        }
        // bound to 127.0.0.1, not to every address (on Linux all of 127/8 reaches this host)
        assertThatThrownBy(() -> {
            try (Socket other = new Socket()) {
                other.connect(new InetSocketAddress("127.0.0.2", port), 2000);
            }
        }).isInstanceOf(ConnectException.class);
        HttpResponse<String> health = RunningService.sendRaw(HttpRequest.newBuilder(
                service.managementUri("/observe/health")).build());
        JsonNode status = TestJson.read(health.body());
        assertThat(status.get("status").asText()).isEqualTo("UP");
        assertThat(status.size()).as(health.body()).isEqualTo(1);
    }

    private static String requestIdAnswered(String requestId) throws IOException, InterruptedException {
        return service.send(HttpRequest.newBuilder(service.uri("/organizations")).header("X-Request-ID", requestId)
                .GET()).headers().firstValue("X-Request-ID").orElseThrow();
    }
}
