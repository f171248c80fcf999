package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.workos.WorkOS;
import com.workos.types.GenerateLinkIntent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import dev.auditstream.support.PortalSession;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/** Setup links and portal sessions: signed, expiring, and never reaching another organization. */
class PortalAccessTest {

    private static RunningService service;
    private static WorkOS workos;

    @BeforeAll
    static void start() throws Exception {
        service = RunningService.start(RunningService.newDataDir("portal-access"),
                Map.of("auditstream.audit-trail.enabled", "true", "auditstream.portal.link-lifetime", "PT2S"));
        workos = WorkOS.builder().apiKey(RunningService.API_KEY).apiBaseUrl(service.baseUrl()).build();
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    @Test
    void aLinkOpensASessionScopedToItsOrganization() throws Exception {
        String org = service.createOrganization("Portal Org");
        String other = service.createOrganization("Someone Else");
        String othersStream = new StreamApi(service).create(other, "Datadog", "{\"apiKey\":\"dd-other-0000000000\"}")
                .get("id").asText();

        String link = workos.getAdminPortal().generateLink(org, null, "https://app.example.com/done",
                GenerateLinkIntent.LogStreams).getLink();
        assertThat(link).startsWith(service.baseUrl() + "/portal/log-streams?token=");

        HttpResponse<String> page = RunningService.sendRaw(HttpRequest.newBuilder(URI.create(link)).build());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        String cookie = page.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(cookie).contains("HttpOnly").contains("SameSite=Strict").contains("Path=/portal");
        String session = cookie.substring(0, cookie.indexOf(';'));

        HttpResponse<String> reload = RunningService.sendRaw(HttpRequest.newBuilder(service.uri("/portal/log-streams"))
                .header("Cookie", session).build());
        assertThat(reload.statusCode()).isEqualTo(200);
        assertThat(reload.headers().firstValue("Content-Security-Policy").orElse("")).contains("default-src 'self'");

        JsonNode me = TestJson.read(portal(session, "GET", "/portal/api/session", null).body());
        assertThat(me.at("/organization/name").asText()).isEqualTo("Portal Org");
        assertThat(me.get("success_url").asText()).isEqualTo("https://app.example.com/done");

        // the body names another organization: the session's wins
        HttpResponse<String> created = portal(session, "POST", "/portal/api/streams",
                "{\"organization_id\":\"" + other + "\",\"type\":\"Datadog\",\"config\":{\"apiKey\":\"dd-portal-0000000\"}}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(TestJson.read(created.body()).get("organization_id").asText()).isEqualTo(org);
        JsonNode listed = TestJson.read(portal(session, "GET", "/portal/api/streams?organization_id=" + other, null).body());
        assertThat(listed.get("data")).extracting(s -> s.get("organization_id").asText()).containsOnly(org);

        for (String[] call : new String[][] {{"GET", ""}, {"PATCH", ""}, {"DELETE", ""}, {"POST", "/test"},
            {"GET", "/setup"}, {"POST", "/dead_letters/redrive"}}) {
            HttpResponse<String> refused = portal(session, call[0], "/portal/api/streams/" + othersStream + call[1],
                    call[0].equals("PATCH") ? "{\"state\":\"inactive\"}" : call[0].equals("POST") ? "{}" : null);
            assertThat(refused.statusCode()).as(call[0] + call[1]).isEqualTo(404);
        }
        // not paused by the refused PATCH (delivering its own log_stream.created may have moved it out of active)
        assertThat(new StreamApi(service).get(othersStream).get("state").asText()).isNotEqualTo("inactive");
    }

    @Test
    void badOrExpiredLinksAndMissingSessionsAreRefusedClearly() throws Exception {
        String org = service.createOrganization("Expiring Org");
        String link = TestJson.read(service.post("/portal/generate_link",
                "{\"organization\":\"" + org + "\",\"intent\":\"log_streams\"}").body()).get("link").asText();

        HttpResponse<String> tampered = RunningService.sendRaw(HttpRequest.newBuilder(URI.create(link + "x")).build());
        assertThat(tampered.statusCode()).isEqualTo(403);
        assertThat(tampered.body()).contains("not valid").doesNotContain("Exception");
        assertThat(tampered.headers().firstValue("Set-Cookie")).isEmpty();

        Thread.sleep(3100);
        HttpResponse<String> expired = RunningService.sendRaw(HttpRequest.newBuilder(URI.create(link)).build());
        assertThat(expired.statusCode()).isEqualTo(410);
        assertThat(expired.body()).containsIgnoringCase("expired");

        assertThat(portal(null, "GET", "/portal/api/streams", null).statusCode()).isEqualTo(401);
        assertThat(RunningService.sendRaw(HttpRequest.newBuilder(service.uri("/portal/api/streams")).build())
                .statusCode()).isEqualTo(403);
        assertThat(service.post("/portal/generate_link", "{\"organization\":\"" + org + "\",\"intent\":\"sso\"}")
                .statusCode()).isEqualTo(422);
        assertThat(service.post("/portal/generate_link", "{\"organization\":\"org_none\",\"intent\":\"log_streams\"}")
                .statusCode()).isEqualTo(404);
    }

    private static HttpResponse<String> portal(String cookie, String method, String path, String body) throws Exception {
        return RunningService.sendRaw(PortalSession.request(service, cookie, method, path, body).build());
    }
}
