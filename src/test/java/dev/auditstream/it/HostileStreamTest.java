package dev.auditstream.it;

import static dev.auditstream.support.StreamApi.inState;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.auditstream.receivers.ConnectionTrap;
import dev.auditstream.receivers.RequestRecorder;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/**
 * Streams configured as an attacker would: Camel header names as custom auth headers, placeholders and expressions in
 * every string, camel-http endpoint options in URL query strings, a new URL to collect the stored credentials. Each is
 * refused with 422 or sent as literal text to the receiver, and nothing ever reaches another port.
 */
class HostileStreamTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    /** What Camel would resolve: property placeholders (environment, application.properties) and Simple. */
    private static final List<String> PLACEHOLDERS = List.of("{{env:AUDITSTREAM_API_KEYS}}",
            "{{auditstream.secret-key}}", "${env:HOME}", "${header.x}");

    private static RequestRecorder receiver;
    /** "Any other port": a proxy, a leak's destination. */
    private static ConnectionTrap elsewhere;
    private static RunningService service;
    private static StreamApi streams;

    @BeforeAll
    static void start() throws Exception {
        receiver = RequestRecorder.start();
        elsewhere = ConnectionTrap.open();
        service = RunningService.start(RunningService.newDataDir("hostile-streams"), Map.of(
                "auditstream.allow-private-destinations", "true",
                "auditstream.datadog.intake-url", receiver.baseUrl(),
                "auditstream.delivery.poll-interval", "100",
                "auditstream.delivery.backoff-base", "PT0.2S",
                "auditstream.delivery.backoff-max", "PT1S"));
        streams = new StreamApi(service);
    }

    @AfterEach
    void nothingReachedAnotherPort() {
        assertThat(elsewhere.connections()).isZero();
    }

    @AfterAll
    static void stop() throws Exception {
        service.close();
        receiver.close();
        elsewhere.close();
    }

    /** camel-http took a CamelHttpUri header as the request's URL and resolved property placeholders in it. */
    @Test
    void camelAndProtocolHeaderNamesAreRefusedAsCustomAuthHeaders() throws Exception {
        String org = service.createOrganization("Header Names");
        String leak = "http://127.0.0.1:" + elsewhere.port() + "/leak/{{env:AUDITSTREAM_API_KEYS}}";
        for (String name : List.of("CamelHttpUri", "camelhttpuri", "CAMELHTTPURI", "CamelHttpPath", "CamelHttpQuery",
                "CamelHttpRawQuery", "CamelHttpMethod", "CamelRestHttpUri", "Host", "Content-Length", "content-type",
                "Content-Encoding", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "TE", "Trailer",
                "Expect", "Cookie", "Proxy-Authorization", "webhook-signature", "Webhook-Id", "Authorization",
                "X Api Key", "X-Key:", "X-Key\r\nX-Injected", "", "X-" + "k".repeat(63))) {
            HttpResponse<String> refused = service.post("/log_streams", genericHttps(org, "n", receiver.baseUrl() + "/named",
                    auth("header").put("headerName", name).put("headerValue", leak)));
            assertThat(refused.statusCode()).as(name).isEqualTo(422);
            assertThat(TestJson.read(refused.body()).at("/errors/0/field").asText()).as(name)
                    .isEqualTo("config.auth.headerName");
        }

        // a good stream patched to a Camel header name stays as it was
        JsonNode stream = streams.create(genericHttps(org, "n", receiver.baseUrl() + "/named-ok",
                auth("header").put("headerName", "X-Api-Key").put("headerValue", "key-123")));
        String id = stream.get("id").asText();
        HttpResponse<String> patched = patch(id, "{\"config\":{\"auth\":{\"headerName\":\"CamelHttpUri\","
                + "\"headerValue\":\"" + leak + "\"}}}");
        assertThat(patched.statusCode()).isEqualTo(422);
        assertThat(test(id).get("success").asBoolean()).isTrue();
        RequestRecorder.Request sent = receiver.await(r -> r.rawPath().equals("/named-ok"), WAIT);
        assertThat(sent.header("X-Api-Key")).isEqualTo("key-123");
        assertThat(receiver.requests()).noneMatch(r -> r.rawPath().contains("leak"));
    }

    @Test
    void valuesSentAsHeadersMayNotCarryLineBreaksOrControlCharacters() throws Exception {
        String org = service.createOrganization("Header Values");
        for (String value : List.of("tok\r\nX-Injected: 1", "tok\nX", "tok\u0000", "tok\u007f")) {
            assertRefused(service.post("/log_streams", config(org, "Datadog", TestJson.MAPPER.createObjectNode()
                    .put("apiKey", value))), "config.apiKey");
            assertRefused(service.post("/log_streams", config(org, "Splunk", TestJson.MAPPER.createObjectNode()
                    .put("url", receiver.baseUrl()).put("token", value))), "config.token");
            assertRefused(service.post("/log_streams", genericHttps(org, "n", receiver.baseUrl(),
                    auth("bearer").put("token", value))), "config.auth.token");
            assertRefused(service.post("/log_streams", genericHttps(org, "n", receiver.baseUrl(),
                    auth("basic").put("username", value).put("password", "p"))), "config.auth.username");
            assertRefused(service.post("/log_streams", genericHttps(org, "n", receiver.baseUrl(),
                    auth("basic").put("username", "u").put("password", value))), "config.auth.password");
            assertRefused(service.post("/log_streams", genericHttps(org, "n", receiver.baseUrl(),
                    auth("header").put("headerName", "X-Key").put("headerValue", value))), "config.auth.headerValue");
        }
        // a basic-auth user name cannot hold the colon that ends it
        assertRefused(service.post("/log_streams", genericHttps(org, "n", receiver.baseUrl(),
                auth("basic").put("username", "a:b").put("password", "p"))), "config.auth.username");
    }

    @Test
    void placeholdersAndExpressionsInEveryStringAreSentAsTheyAre() throws Exception {
        for (int i = 0; i < PLACEHOLDERS.size(); i++) {
            String text = PLACEHOLDERS.get(i);
            String encoded = text.replace("{", "%7B").replace("}", "%7D");
            String org = service.createOrganization("Literal " + i);

            // as written, braces make no URL
            assertRefused(service.post("/log_streams", genericHttps(org, text, receiver.baseUrl() + "/hook/" + text,
                    auth("none"))), "config.url");

            String hookPath = "/hook/" + i + "/" + encoded;
            JsonNode hook = streams.create(genericHttps(org, text, receiver.baseUrl() + hookPath + "?v=" + encoded,
                    auth("header").put("headerName", "X-Api-Key").put("headerValue", text)));
            assertThat(hook.get("name").asText()).isEqualTo(text);
            assertThat(hook.at("/config/source").asText()).isEqualTo(text);
            String splunkPath = "/splunk/" + i + "/" + encoded;
            String splunk = streams.create(config(org, "Splunk", TestJson.MAPPER.createObjectNode()
                    .put("url", receiver.baseUrl() + splunkPath + "?v=" + encoded).put("token", text)
                    .put("source", text).put("index", text).put("sourcetype", text))).get("id").asText();
            String datadog = streams.create(config(org, "Datadog", TestJson.MAPPER.createObjectNode()
                    .put("apiKey", text).put("source", text).put("service", text))).get("id").asText();
            String bearerPath = "/bearer/" + i;
            String basicPath = "/basic/" + i;
            String bearer = streams.create(genericHttps(org, text, receiver.baseUrl() + bearerPath,
                    auth("bearer").put("token", text))).get("id").asText();
            String user = text.contains(":") ? "user" : text;
            String basic = streams.create(genericHttps(org, text, receiver.baseUrl() + basicPath,
                    auth("basic").put("username", user).put("password", text))).get("id").asText();

            for (String id : List.of(hook.get("id").asText(), splunk, datadog, bearer, basic)) {
                JsonNode answer = test(id);
                assertThat(answer.get("success").asBoolean()).as(answer.toString()).isTrue();
            }
            String action = "literal.sent." + i;
            service.post("/audit_logs/events", TestJson.event(org, action));

            String quoted = TestJson.MAPPER.writeValueAsString(text);
            for (boolean delivered : List.of(false, true)) {
                String marker = delivered ? action : "auditstream.test_event";
                RequestRecorder.Request toHook = receiver.await(r -> r.rawPath().equals(hookPath)
                        && r.body().contains(marker), WAIT);
                assertThat(toHook.method()).isEqualTo("POST");
                assertThat(toHook.rawQuery()).isEqualTo("v=" + encoded);
                assertThat(toHook.header("X-Api-Key")).isEqualTo(text);
                assertThat(toHook.body()).contains("\"source\":" + quoted);
                assertThat(toHook.headers().keySet()).noneMatch(name -> name.toLowerCase().startsWith("camel"));

                RequestRecorder.Request toSplunk = receiver.await(r -> r.rawPath().equals(
                        splunkPath + "/services/collector/event") && r.body().contains(marker), WAIT);
                assertThat(toSplunk.rawQuery()).isEqualTo("v=" + encoded);
                assertThat(toSplunk.header("Authorization")).isEqualTo("Splunk " + text);
                assertThat(toSplunk.body()).contains("\"source\":" + quoted, "\"index\":" + quoted,
                        "\"sourcetype\":" + quoted);

                RequestRecorder.Request toDatadog = receiver.await(r -> r.rawPath().equals("/api/v2/logs")
                        && text.equals(r.header("DD-API-KEY")) && r.body().contains(marker), WAIT);
                assertThat(toDatadog.body()).contains("\"ddsource\":" + quoted, "\"service\":" + quoted);

                RequestRecorder.Request toBearer = receiver.await(r -> r.rawPath().equals(bearerPath)
                        && r.body().contains(marker), WAIT);
                assertThat(toBearer.header("Authorization")).isEqualTo("Bearer " + text);
                RequestRecorder.Request toBasic = receiver.await(r -> r.rawPath().equals(basicPath)
                        && r.body().contains(marker), WAIT);
                assertThat(toBasic.header("Authorization")).isEqualTo("Basic " + Base64.getEncoder()
                        .encodeToString((user + ":" + text).getBytes(StandardCharsets.UTF_8)));
            }
        }
    }

    /** camel-http read endpoint options from the URL's query: a proxy, statuses that count as success, the method. */
    @Test
    void camelHttpOptionsInAUrlAreOnlyAQueryString() throws Exception {
        String org = service.createOrganization("Endpoint Options");
        String proxy = "proxyHost=127.0.0.1&proxyPort=" + elsewhere.port();
        for (String query : List.of(proxy, "soTimeout=0", "httpMethod=GET", "followRedirects=true",
                "bridgeEndpoint=true&connectionClose=true")) {
            String path = "/option/" + query.hashCode();
            String id = streams.create(genericHttps(org, "n", receiver.baseUrl() + path + "?" + query,
                    auth("none"))).get("id").asText();
            assertThat(test(id).get("success").asBoolean()).as(query).isTrue();
            RequestRecorder.Request sent = receiver.await(r -> r.rawPath().equals(path), WAIT);
            assertThat(sent.method()).isEqualTo("POST");
            assertThat(sent.rawQuery()).isEqualTo(query);
        }
        String splunkPath = "/splunk-option";
        streams.create(config(org, "Splunk", TestJson.MAPPER.createObjectNode()
                .put("url", receiver.baseUrl() + splunkPath + "?" + proxy).put("token", "tok-option")));

        // failures stay failures: the answer 500 is an error, the cursor does not pass the event
        for (String query : List.of("throwExceptionOnFailure=false", "okStatusCodeRange=200-599")) {
            String failOrg = service.createOrganization("Failing " + query);
            String path = "/fail/" + query.hashCode();
            String id = streams.create(genericHttps(failOrg, "n", receiver.baseUrl() + path + "?" + query,
                    auth("none"))).get("id").asText();
            JsonNode answer = test(id);
            assertThat(answer.get("success").asBoolean()).as(query).isFalse();
            assertThat(answer.get("http_status").asInt()).isEqualTo(500);
            streams.send(failOrg, "refused", 1);
            JsonNode failing = streams.awaitStream(id, inState("error"), WAIT);
            assertThat(failing.get("state_reason").asText()).contains("500");
            assertThat(receiver.await(r -> r.rawPath().equals(path) && r.body().contains("refused.0"), WAIT)
                    .rawQuery()).isEqualTo(query);
            assertThat(streams.get(id).get("last_synced_at").isNull()).isTrue();
        }

        // a real delivery takes the same way
        streams.send(org, "option", 1);
        RequestRecorder.Request delivered = receiver.await(r -> r.rawPath().equals(splunkPath
                + "/services/collector/event") && r.body().contains("option.0"), WAIT);
        assertThat(delivered.rawQuery()).isEqualTo(proxy);
        receiver.await(r -> r.rawPath().equals("/option/" + proxy.hashCode()) && r.body().contains("option.0"), WAIT);
    }

    /** A leaked 5-minute portal link must not be enough to send the stored token to a host of one's own. */
    @Test
    void aNewUrlDropsTheStoredCredentialsUntilTheyAreGivenAgain() throws Exception {
        String org = service.createOrganization("Retargeted");
        JsonNode hook = streams.create(genericHttps(org, "n", receiver.baseUrl() + "/customer",
                auth("bearer").put("token", "tok-customer-secret")));
        String hookId = hook.get("id").asText();
        String signing = streams.get(hookId).at("/config/signingSecret").asText();
        String splunk = streams.create(config(org, "Splunk", TestJson.MAPPER.createObjectNode()
                .put("url", receiver.baseUrl() + "/customer-hec").put("token", "tok-customer-hec"))).get("id").asText();

        // the masked value, as a client reads it back, is not the secret given again
        JsonNode moved = TestJson.read(patch(hookId, "{\"config\":{\"url\":\"" + receiver.baseUrl()
                + "/attacker\",\"auth\":{\"token\":\"" + hook.at("/config/auth/token").asText() + "\"}}}").body());
        assertThat(moved.get("state").asText()).isEqualTo("inactive");
        assertThat(moved.get("state_reason").asText()).isEqualTo("Configuration incomplete: missing auth.token.");
        JsonNode movedSplunk = TestJson.read(patch(splunk, "{\"config\":{\"url\":\"" + receiver.baseUrl()
                + "/attacker-hec\"}}").body());
        assertThat(movedSplunk.get("state_reason").asText()).isEqualTo("Configuration incomplete: missing token.");
        test(hookId);
        test(splunk);
        streams.send(org, "retargeted", 1);
        Thread.sleep(500);
        assertThat(receiver.requests()).noneMatch(r -> r.rawPath().startsWith("/attacker")
                && String.valueOf(r.header("Authorization")).contains("tok-customer"));

        // given again, it goes to the new URL, still signed with the stream's own secret
        JsonNode fixed = TestJson.read(patch(hookId, "{\"config\":{\"auth\":{\"token\":\"tok-new\"}}}").body());
        assertThat(fixed.get("state").asText()).isEqualTo("active");
        assertThat(fixed.at("/config/signingSecret").asText()).isEqualTo(signing);
        RequestRecorder.Request sent = receiver.await(r -> r.rawPath().equals("/attacker")
                && r.body().contains("retargeted.0"), WAIT);
        assertThat(sent.header("Authorization")).isEqualTo("Bearer tok-new");
        assertThat(sent.header("webhook-signature")).startsWith("v1,");
    }

    @Test
    void aPortalSessionCannotRetargetTheStoredCredentials() throws Exception {
        String org = service.createOrganization("Portal Retargeted");
        String id = streams.create(config(org, "Splunk", TestJson.MAPPER.createObjectNode()
                .put("url", receiver.baseUrl() + "/portal-customer").put("token", "tok-portal-secret")))
                .get("id").asText();
        String link = TestJson.read(service.post("/portal/generate_link",
                "{\"organization\":\"" + org + "\",\"intent\":\"log_streams\"}").body()).get("link").asText();
        String cookie = RunningService.sendRaw(HttpRequest.newBuilder(URI.create(link)).build()).headers()
                .firstValue("Set-Cookie").orElseThrow().split(";", 2)[0];

        HttpResponse<String> moved = portal(cookie, "PATCH", "/portal/api/streams/" + id,
                "{\"config\":{\"url\":\"" + receiver.baseUrl() + "/portal-attacker\"}}");
        assertThat(moved.statusCode()).as(moved.body()).isEqualTo(200);
        assertThat(TestJson.read(moved.body()).get("state_reason").asText())
                .isEqualTo("Configuration incomplete: missing token.");
        portal(cookie, "POST", "/portal/api/streams/" + id + "/test", "{}");
        assertThat(receiver.requests()).noneMatch(r -> r.rawPath().startsWith("/portal-attacker")
                && String.valueOf(r.header("Authorization")).contains("tok-portal-secret"));
        assertThat(streams.get(id).get("state").asText()).isEqualTo("inactive");
    }

    private static void assertRefused(HttpResponse<String> response, String field) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
        assertThat(TestJson.read(response.body()).findValuesAsText("field")).as(response.body()).contains(field);
    }

    private static ObjectNode auth(String type) {
        return TestJson.MAPPER.createObjectNode().put("type", type);
    }

    private static String genericHttps(String org, String name, String url, ObjectNode auth) {
        ObjectNode body = TestJson.MAPPER.createObjectNode().put("organization_id", org).put("type", "GenericHttps")
                .put("name", name);
        body.putObject("config").put("url", url).put("source", name).set("auth", auth);
        return body.toString();
    }

    private static String config(String org, String type, ObjectNode config) {
        ObjectNode body = TestJson.MAPPER.createObjectNode().put("organization_id", org).put("type", type);
        body.set("config", config);
        return body.toString();
    }

    private static HttpResponse<String> patch(String id, String body) throws Exception {
        return service.send(HttpRequest.newBuilder(service.uri("/log_streams/" + id))
                .method("PATCH", HttpRequest.BodyPublishers.ofString(body)));
    }

    private static JsonNode test(String id) throws Exception {
        HttpResponse<String> response = service.post("/log_streams/" + id + "/test", "{}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return TestJson.read(response.body());
    }

    private static HttpResponse<String> portal(String cookie, String method, String path, String body)
            throws Exception {
        return RunningService.sendRaw(HttpRequest.newBuilder(service.uri(path))
                .header("X-AuditStream-Portal", "1").header("Content-Type", "application/json").header("Cookie", cookie)
                .method(method, HttpRequest.BodyPublishers.ofString(body)).build());
    }
}
