package dev.auditstream.receivers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.zip.GZIPOutputStream;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

class ReceiversTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    // ================= Datadog =================

    private static final String DD_KEY = "dd-key-123";
    private static final String DD_FORBIDDEN = "{\"errors\":[\"Forbidden\"]}";
    private static final String DD_BAD_REQUEST = "{\"errors\":[\"Bad Request\"]}";
    private static final String DD_TOO_LARGE = "{\"errors\":[\"Payload too large\"]}";

    @Test
    void datadogAcceptsGzippedBatchAndRecordsExactBytes() throws Exception {
        try (DatadogIntake dd = DatadogIntake.start(DD_KEY)) {
            String json = "[" + ddEntry("user.signed_in") + "," + ddEntry("user.signed_out") + "]";
            byte[] gz = gzip(json);

            HttpResponse<String> res = send(ddRequest(dd, gz, "DD-API-KEY", DD_KEY));

            assertResponse(res, 202, "{}");
            assertThat(dd.events()).extracting(e -> e.get("action").asText()).containsExactly("user.signed_in", "user.signed_out");
            LoopbackReceiver.Recorded r = dd.requests().get(0);
            assertThat(r.rawBody()).isEqualTo(gz);
            assertThat(r.bodyText()).isEqualTo(json);
            assertThat(r.header("dd-api-key")).isEqualTo(DD_KEY);
            assertThat(r.path()).isEqualTo("/api/v2/logs");
            assertThat(dd.requestCount()).isEqualTo(1);
        }
    }

    @Test
    void datadogRejectsProtocolViolations() throws Exception {
        try (DatadogIntake dd = DatadogIntake.start(DD_KEY)) {
            String ok = "[" + ddEntry("a") + "]";
            String url = dd.baseUrl() + "/api/v2/logs";

            assertResponse(send(post(url, gzip(ok), "Content-Type", "application/json", "Content-Encoding", "gzip")), 403, DD_FORBIDDEN);
            assertResponse(send(ddRequest(dd, gzip(ok), "DD-API-KEY", "wrong")), 403, DD_FORBIDDEN);
            assertResponse(send(post(url, gzip(ok), "DD-API-KEY", DD_KEY, "Content-Type", "text/plain", "Content-Encoding", "gzip")),
                    415, "{\"errors\":[\"Unsupported Media Type\"]}");
            assertResponse(send(post(url, bytes(ok), "DD-API-KEY", DD_KEY, "Content-Type", "application/json")), 400, DD_BAD_REQUEST);
            assertResponse(send(post(url, bytes(ok), "DD-API-KEY", DD_KEY, "Content-Type", "application/json", "Content-Encoding", "gzip")),
                    400, DD_BAD_REQUEST); // claims gzip, isn't
            assertResponse(ddSend(dd, "[{\"message\":"), 400, DD_BAD_REQUEST);
            assertResponse(ddSend(dd, ddEntry("a")), 400, DD_BAD_REQUEST); // an object, not an array
            assertResponse(ddSend(dd, "[]"), 400, DD_BAD_REQUEST);
            assertResponse(ddSend(dd, "[{\"message\":\"text\",\"ddsource\":\"auditstream\",\"service\":\"s\"}]"), 400, DD_BAD_REQUEST);
            assertResponse(ddSend(dd, "[{\"message\":{\"action\":\"a\"},\"service\":\"s\"}]"), 400, DD_BAD_REQUEST);
            assertResponse(ddSend(dd, "[{\"message\":{\"action\":\"a\"},\"ddsource\":\"auditstream\"}]"), 400, DD_BAD_REQUEST);

            assertResponse(ddSend(dd, IntStream.range(0, 1001).mapToObj(i -> ddEntry("a")).collect(Collectors.joining(",", "[", "]"))),
                    413, DD_TOO_LARGE);
            assertResponse(ddSend(dd, "[" + ddEntryPadded(1024 * 1024) + "]"), 413, DD_TOO_LARGE);
            String sixBigEntries = IntStream.range(0, 6).mapToObj(i -> ddEntryPadded(900 * 1024)).collect(Collectors.joining(",", "[", "]"));
            assertResponse(ddSend(dd, sixBigEntries), 413, DD_TOO_LARGE); // each under 1 MB, together over 5 MB

            assertResponse(send(HttpRequest.newBuilder(URI.create(url)).GET().build()), 405, "{\"errors\":[\"Method Not Allowed\"]}");
            assertResponse(send(ddRequest(dd, "/api/v1/input", gzip(ok))), 404, "{\"errors\":[\"Not Found\"]}");

            dd.rejectEventsWithAction("poison");
            assertResponse(ddSend(dd, "[" + ddEntry("a") + "," + ddEntry("poison") + "]"), 400, DD_BAD_REQUEST);
            assertThat(dd.requests().get(dd.requests().size() - 1).reason()).contains("entry 1").contains("poison");
            assertResponse(ddSend(dd, "[" + ddEntry("a") + "]"), 202, "{}"); // the split batch without it passes

            assertThat(dd.events()).hasSize(1);
            assertThat(dd.requestCount()).isEqualTo(18);
        }
    }

    @Test
    void datadogAcceptsPlainBodyWhenGzipNotRequired() throws Exception {
        try (DatadogIntake dd = DatadogIntake.builder(DD_KEY).requireGzip(false).start()) {
            assertResponse(send(post(dd.baseUrl() + "/api/v2/logs", bytes("[" + ddEntry("a") + "]"),
                    "DD-API-KEY", DD_KEY, "Content-Type", "application/json; charset=utf-8")), 202, "{}");
            assertThat(dd.events()).hasSize(1);
        }
    }

    @Test
    void datadogFaults() throws Exception {
        try (DatadogIntake dd = DatadogIntake.start(DD_KEY)) {
            Supplier<HttpRequest> valid = () -> ddRequest(dd, gzip("[" + ddEntry("a") + "]"), "DD-API-KEY", DD_KEY);
            assertFailsOnceThenRecovers(dd, valid, "{\"errors\":[\"Service Unavailable\"]}", 202);

            dd.failAlways(429);
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> res = send(valid.get());
                assertResponse(res, 429, "{\"errors\":[\"Too Many Requests\"]}");
                assertThat(res.headers().firstValue("Retry-After")).hasValue("1");
            }
            dd.failNext(1, 500);
            assertThat(send(valid.get()).headers().firstValue("Retry-After")).isEmpty();
            dd.recover();
            assertResponse(send(valid.get()), 202, "{}");

            assertHangsThenServes(dd, valid);
        }
    }

    // ================= Splunk HEC =================

    private static final String HEC_TOKEN = "11111111-2222-3333-4444-555555555555";
    private static final String HEC_PATH = "/services/collector/event";

    @Test
    void splunkAcceptsConcatenatedEvents() throws Exception {
        try (SplunkHec hec = SplunkHec.builder(HEC_TOKEN).allowedIndexes("audit").start()) {
            String body = hecEvent("user.signed_in", "1705314600.123") + "\n"
                    + "{\"time\":1705314601,\"source\":\"auditstream\",\"sourcetype\":\"_json\",\"index\":\"audit\",\"host\":\"h\","
                    + "\"fields\":{\"org\":\"o1\"},\"event\":{\"id\":\"e2\",\"action\":\"user.signed_out\",\"score\":2.0}}";

            assertResponse(hecSend(hec, body), 200, "{\"text\":\"Success\",\"code\":0}");

            List<JsonNode> events = hec.events();
            assertThat(events).extracting(e -> e.get("action").asText()).containsExactly("user.signed_in", "user.signed_out");
            // floats come back as ordinary doubles, comparable with what Jackson reads elsewhere
            assertThat(events.get(1)).isEqualTo(LoopbackReceiver.JSON.readTree("{\"id\":\"e2\",\"action\":\"user.signed_out\",\"score\":2.0}"));
            assertThat(hec.requests().get(0).bodyText()).isEqualTo(body);

            // gzip is understood too
            assertResponse(send(post(hec.baseUrl() + HEC_PATH, gzip(hecEvent("x", "1")), "Authorization", "Splunk " + HEC_TOKEN,
                    "Content-Encoding", "gzip")), 200, "{\"text\":\"Success\",\"code\":0}");
            assertThat(hec.events()).hasSize(3);
        }
    }

    @Test
    void splunkRejectsProtocolViolations() throws Exception {
        try (SplunkHec hec = SplunkHec.builder(HEC_TOKEN).allowedIndexes("audit").start()) {
            String url = hec.baseUrl() + HEC_PATH;
            String ok = hecEvent("a", "1705314600.123");

            assertResponse(send(post(url, bytes(ok))), 401, "{\"text\":\"Token is required\",\"code\":2}");
            assertResponse(send(post(url, bytes(ok), "Authorization", "Bearer " + HEC_TOKEN)), 401, "{\"text\":\"Invalid authorization\",\"code\":3}");
            assertResponse(send(post(url, bytes(ok), "Authorization", "Splunk nope")), 403, "{\"text\":\"Invalid token\",\"code\":4}");
            assertResponse(hecSend(hec, " \n"), 400, "{\"text\":\"No data\",\"code\":5}");
            assertResponse(hecSend(hec, "[" + ok + "," + ok + "]"), 400, invalid(6, "Invalid data format", 0));
            assertResponse(hecSend(hec, ok + "\n\"just a string\""), 400, invalid(6, "Invalid data format", 1));
            assertResponse(hecSend(hec, ok + "{\"time\":1}"), 400, invalid(12, "Event field is required", 1));
            assertResponse(hecSend(hec, "{\"event\":null}"), 400, invalid(12, "Event field is required", 0));
            assertResponse(hecSend(hec, "{\"event\":\"\"}"), 400, invalid(13, "Event field cannot be blank", 0));
            assertResponse(hecSend(hec, hecEvent("a", "1705314600123")), 400, invalid(6, "Invalid data format", 0)); // millis
            assertResponse(hecSend(hec, hecEvent("a", "1705314600.1234")), 400, invalid(6, "Invalid data format", 0));
            assertResponse(hecSend(hec, hecEvent("a", "\"1705314600\"")), 400, invalid(6, "Invalid data format", 0));
            assertResponse(hecSend(hec, "{\"source\":5,\"event\":{\"action\":\"a\"}}"), 400, invalid(6, "Invalid data format", 0));
            assertResponse(hecSend(hec, "{\"sourcetype\":true,\"event\":{\"action\":\"a\"}}"), 400, invalid(6, "Invalid data format", 0));
            assertResponse(hecSend(hec, "{\"index\":\"main\",\"event\":{\"action\":\"a\"}}"), 400, invalid(7, "Incorrect index", 0));
            assertResponse(hecSend(hec, ok + ok + "{\"event\":"), 400, invalid(6, "Invalid data format", 2));
            assertResponse(send(post(hec.baseUrl() + "/services/collector", bytes(ok), "Authorization", "Splunk " + HEC_TOKEN)),
                    404, "{\"text\":\"The requested URL was not found on this server.\",\"code\":404}");

            // events before the first bad object were accepted: 1 (string) + 1 (missing event) + 2 (truncated)
            assertThat(hec.events()).hasSize(4);

            hec.rejectEventsWithAction("poison");
            assertResponse(hecSend(hec, hecEvent("p1", "1") + hecEvent("p2", "2") + hecEvent("poison", "3") + hecEvent("p4", "4")),
                    400, invalid(6, "Invalid data format", 2));
            assertThat(hec.events()).extracting(e -> e.get("action").asText()).endsWith("p1", "p2").doesNotContain("poison", "p4");
        }
    }

    @Test
    void splunkFaults() throws Exception {
        try (SplunkHec hec = SplunkHec.start(HEC_TOKEN)) {
            Supplier<HttpRequest> valid = () -> post(hec.baseUrl() + HEC_PATH, bytes(hecEvent("a", "1")), "Authorization", "Splunk " + HEC_TOKEN);
            assertFailsOnceThenRecovers(hec, valid, "{\"text\":\"Server is busy\",\"code\":9}", 200);
            hec.failNext(2, 500);
            assertResponse(send(valid.get()), 500, "{\"text\":\"Internal server error\",\"code\":8}");
            assertResponse(send(valid.get()), 500, "{\"text\":\"Internal server error\",\"code\":8}");
            assertResponse(send(valid.get()), 200, "{\"text\":\"Success\",\"code\":0}");
            assertHangsThenServes(hec, valid);
        }
    }

    @Test
    void splunkIndexerAcknowledgementAsDocumented() throws Exception {
        try (SplunkHec hec = SplunkHec.builder(HEC_TOKEN).indexerAcknowledgement().indexedAfterQueries(2).start()) {
            String auth = "Splunk " + HEC_TOKEN;
            String channel = "0aecb54e-0e3d-4b2c-a8c9-6a2d8d1f4b11";
            byte[] event = bytes(hecEvent("a", "1"));
            assertResponse(send(post(hec.baseUrl() + HEC_PATH, event, "Authorization", auth)), 400,
                    "{\"text\":\"Data channel is missing\",\"code\":10}");
            assertResponse(send(post(hec.baseUrl() + HEC_PATH, event, "Authorization", auth,
                    "X-Splunk-Request-Channel", "not-a-guid")), 400, "{\"text\":\"Invalid data channel\",\"code\":11}");
            assertResponse(send(post(hec.baseUrl() + HEC_PATH, event, "Authorization", auth,
                    "X-Splunk-Request-Channel", channel)), 200, "{\"text\":\"Success\",\"code\":0,\"ackId\":0}");
            assertResponse(send(post(hec.baseUrl() + HEC_PATH + "?channel=" + channel, event, "Authorization", auth)),
                    200, "{\"text\":\"Success\",\"code\":0,\"ackId\":1}");
            assertThat(hec.events()).isEmpty();

            String ack = hec.baseUrl() + "/services/collector/ack";
            byte[] query = bytes("{\"acks\":[0,7]}");
            assertResponse(send(post(ack, query, "Authorization", auth)), 400,
                    "{\"text\":\"Data channel is missing\",\"code\":10}");
            assertResponse(send(post(ack, query, "Authorization", auth, "X-Splunk-Request-Channel", channel)), 200,
                    "{\"acks\":{\"0\":false,\"7\":false}}");
            assertResponse(send(post(ack, query, "Authorization", auth, "X-Splunk-Request-Channel", channel)), 200,
                    "{\"acks\":{\"0\":true,\"7\":false}}");
            assertThat(hec.events()).hasSize(1);
            assertResponse(send(post(ack, query, "X-Splunk-Request-Channel", channel)), 401,
                    "{\"text\":\"Token is required\",\"code\":2}");
        }
        try (SplunkHec plain = SplunkHec.start(HEC_TOKEN)) {
            assertResponse(send(post(plain.baseUrl() + "/services/collector/ack", bytes("{\"acks\":[0]}"),
                    "Authorization", "Splunk " + HEC_TOKEN, "X-Splunk-Request-Channel", "0aecb54e-0e3d-4b2c-a8c9-6a2d8d1f4b11")),
                    400, "{\"text\":\"ACK is disabled\",\"code\":14}");
        }
    }

    // ================= Webhook =================

    // The Standard Webhooks reference vector: secret, id, timestamp, body -> signature.
    private static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private static final String UNAUTHORIZED = "{\"error\":\"unauthorized\"}";
    private static final String INVALID_SIGNATURE = "{\"error\":\"invalid signature\"}";
    private static final String BAD_REQUEST = "{\"error\":\"bad request\"}";

    @Test
    void webhookVerifiesTheReferenceSignature() throws Exception {
        Clock then = Clock.fixed(Instant.ofEpochSecond(1614265330), ZoneOffset.UTC);
        try (WebhookReceiver hook = WebhookReceiver.builder(SECRET).clock(then).start()) {
            byte[] body = bytes("{\"test\": 2432232314}");
            String[] headers = {"Content-Type", "application/json", "webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                    "webhook-timestamp", "1614265330", "webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="};

            // signature accepted; the body is just not a batch
            assertResponse(send(post(hook.baseUrl(), body, headers)), 400, BAD_REQUEST);
            assertThat(hook.requests().get(0).reason()).contains("array");

            assertResponse(send(post(hook.baseUrl(), bytes("{\"test\": 2432232315}"), headers)), 401, INVALID_SIGNATURE);
        }
    }

    @Test
    void webhookAcceptsJsonArrayAndNdjson() throws Exception {
        try (WebhookReceiver hook = WebhookReceiver.start(SECRET)) {
            String array = "[" + item("e1", "user.signed_in") + "," + item("e2", "user.signed_out") + "]";
            assertResponse(send(signed(hook.baseUrl() + "/any/path", array, "application/json")), 200, "{\"ok\":true}");

            String ndjson = item("e3", "a") + "\n" + item("e4", "b") + "\n";
            assertResponse(send(signed(hook.baseUrl(), ndjson, "application/x-ndjson")), 200, "{\"ok\":true}");

            assertThat(hook.events()).extracting(e -> e.get("id").asText()).containsExactly("e1", "e2", "e3", "e4");
            assertThat(hook.requests().get(1).bodyText()).isEqualTo(ndjson);
        }
    }

    @Test
    void webhookChecksConfiguredAuth() throws Exception {
        String body = "[" + item("e1", "a") + "]";
        try (WebhookReceiver bearer = WebhookReceiver.builder(SECRET).bearerToken("tok").start();
             WebhookReceiver basic = WebhookReceiver.builder(SECRET).basicAuth("u", "p").start();
             WebhookReceiver custom = WebhookReceiver.builder(SECRET).requiredHeader("X-Api-Key", "k1").start()) {
            assertResponse(send(signed(bearer.baseUrl(), body, "application/json", "Authorization", "Bearer tok")), 200, "{\"ok\":true}");
            assertResponse(send(signed(bearer.baseUrl(), body, "application/json", "Authorization", "Bearer nope")), 401, UNAUTHORIZED);
            assertResponse(send(signed(bearer.baseUrl(), body, "application/json")), 401, UNAUTHORIZED);

            String userPass = Base64.getEncoder().encodeToString(bytes("u:p"));
            assertResponse(send(signed(basic.baseUrl(), body, "application/json", "Authorization", "Basic " + userPass)), 200, "{\"ok\":true}");
            assertResponse(send(signed(basic.baseUrl(), body, "application/json", "Authorization", "Bearer tok")), 401, UNAUTHORIZED);

            assertResponse(send(signed(custom.baseUrl(), body, "application/json", "x-api-key", "k1")), 200, "{\"ok\":true}");
            assertResponse(send(signed(custom.baseUrl(), body, "application/json", "X-Api-Key", "k2")), 401, UNAUTHORIZED);
        }
    }

    @Test
    void webhookRejectsProtocolViolations() throws Exception {
        try (WebhookReceiver hook = WebhookReceiver.start(SECRET)) {
            String url = hook.baseUrl();
            String ok = "[" + item("e1", "a") + "]";
            long now = Instant.now().getEpochSecond();

            assertResponse(send(post(url, bytes(ok), "Content-Type", "application/json")), 401, INVALID_SIGNATURE);
            assertResponse(send(post(url, bytes(ok), "Content-Type", "application/json", "webhook-id", "m1",
                    "webhook-timestamp", "" + now, "webhook-signature", "v1,AAAA")), 401, INVALID_SIGNATURE);
            assertResponse(send(post(url, bytes(ok), "Content-Type", "application/json", // id missing
                    "webhook-timestamp", "" + now, "webhook-signature", sign("", now, ok))), 401, INVALID_SIGNATURE);
            assertResponse(send(post(url, bytes(ok), "Content-Type", "application/json", "webhook-id", "m1",
                    "webhook-timestamp", "" + (now - 301), "webhook-signature", sign("m1", now - 301, ok))), 401, INVALID_SIGNATURE);
            assertResponse(send(post(url, bytes(ok), "Content-Type", "application/json", "webhook-id", "m1",
                    "webhook-timestamp", now + "000", "webhook-signature", sign("m1", now * 1000, ok))), 401, INVALID_SIGNATURE);
            // several signatures (key rotation): one matching is enough
            assertResponse(send(post(url, bytes(ok), "Content-Type", "application/json", "webhook-id", "m1", "webhook-timestamp", "" + now,
                    "webhook-signature", "v1,AAAA " + sign("m1", now, ok) + " v2,x")), 200, "{\"ok\":true}");

            assertResponse(send(signed(url, ok, "text/plain")), 415, "{\"error\":\"unsupported media type\"}");
            assertResponse(send(signed(url, "[{\"event\":", "application/json")), 400, BAD_REQUEST);
            assertResponse(send(signed(url, item("e1", "a"), "application/json")), 400, BAD_REQUEST); // not an array
            assertResponse(send(signed(url, "[]", "application/json")), 400, BAD_REQUEST);
            assertResponse(send(signed(url, item("e1", "a") + "\n\n" + item("e2", "a"), "application/x-ndjson")), 400, BAD_REQUEST);
            assertResponse(send(signed(url, "[" + ok + "]", "application/x-ndjson")), 400, BAD_REQUEST);
            assertResponse(sendItem(hook, "{\"event\":{\"action\":\"a\"},\"keySuffix\":\"0123456789ab\",\"timestamp\":\"2024-01-15T10:30:00.123Z\"}"), 400, BAD_REQUEST);
            assertResponse(sendItem(hook, "{\"event\":{\"id\":\"e\"},\"timestamp\":\"2024-01-15T10:30:00.123Z\"}"), 400, BAD_REQUEST);
            assertResponse(sendItem(hook, "{\"event\":{\"id\":\"e\"},\"keySuffix\":\"0123456789AB\",\"timestamp\":\"2024-01-15T10:30:00.123Z\"}"), 400, BAD_REQUEST);
            assertResponse(sendItem(hook, "{\"event\":{\"id\":\"e\"},\"keySuffix\":\"0123456789ab\",\"timestamp\":\"2024-01-15T10:30:00Z\"}"), 400, BAD_REQUEST);
            assertResponse(sendItem(hook, "{\"event\":{\"id\":\"e\"},\"keySuffix\":\"0123456789ab\",\"timestamp\":\"2024-01-15T10:30:00.123+00:00\"}"), 400, BAD_REQUEST);
            assertResponse(sendItem(hook, "{\"event\":{\"id\":\"e\"},\"keySuffix\":\"0123456789ab\",\"timestamp\":\"2024-13-15T10:30:00.123Z\"}"), 400, BAD_REQUEST);
            assertResponse(sendItem(hook, "{\"event\":{\"id\":\"e\"},\"keySuffix\":\"0123456789ab\",\"timestamp\":\"2024-01-15T10:30:00.123Z\",\"source\":1}"), 400, BAD_REQUEST);
            assertResponse(send(HttpRequest.newBuilder(URI.create(url)).GET().build()), 405, "{\"error\":\"method not allowed\"}");
            assertResponse(send(post(url, gzip(ok), "Content-Type", "application/json", "Content-Encoding", "gzip")),
                    415, "{\"error\":\"unsupported media type\"}");

            hook.rejectEventsWithAction("poison");
            assertResponse(send(signed(url, "[" + item("e1", "a") + "," + item("e2", "poison") + "]", "application/json")), 400, BAD_REQUEST);

            assertThat(hook.events()).extracting(e -> e.get("id").asText()).containsExactly("e1"); // only the multi-signature one
        }
    }

    @Test
    void webhookFaults() throws Exception {
        try (WebhookReceiver hook = WebhookReceiver.start(SECRET)) {
            Supplier<HttpRequest> valid = () -> signed(hook.baseUrl(), "[" + item("e1", "a") + "]", "application/json");
            assertFailsOnceThenRecovers(hook, valid, "{\"error\":\"service unavailable\"}", 200);
            assertHangsThenServes(hook, valid);
        }
    }

    @Test
    void awaitEventsExplainsWhatArrived() throws Exception {
        try (DatadogIntake dd = DatadogIntake.start(DD_KEY)) {
            ddSend(dd, "[{\"message\":{\"action\":\"a\"},\"service\":\"s\"}]");
            assertThatThrownBy(() -> dd.awaitEvents(1, Duration.ofMillis(50)))
                    .isInstanceOf(AssertionError.class)
                    .hasMessageContaining("expected at least 1 accepted events")
                    .hasMessageContaining("#1 POST /api/v2/logs -> 400 entry 0: ddsource must be a non-empty string");
        }
    }

    // ================= shared scenarios =================

    /** failNext(1, 503): the service's busy answer with Retry-After, then normal service. */
    private static void assertFailsOnceThenRecovers(LoopbackReceiver receiver, Supplier<HttpRequest> valid, String busyBody, int okStatus)
            throws Exception {
        int before = receiver.events().size();
        receiver.failNext(1, 503);
        HttpResponse<String> busy = send(valid.get());
        assertResponse(busy, 503, busyBody);
        assertThat(busy.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(receiver.events()).hasSize(before);
        assertThat(send(valid.get()).statusCode()).isEqualTo(okStatus);
        assertThat(receiver.events()).hasSize(before + 1);
    }

    /** A hanging request times the client out without blocking others, and is still processed afterwards. */
    private static void assertHangsThenServes(LoopbackReceiver receiver, Supplier<HttpRequest> valid) throws Exception {
        int before = receiver.events().size();
        receiver.hangFor(Duration.ofMillis(400));
        HttpRequest slow = HttpRequest.newBuilder(valid.get(), (n, v) -> true).timeout(Duration.ofMillis(100)).build();
        CompletableFuture<HttpResponse<String>> hung = HTTP.sendAsync(slow, HttpResponse.BodyHandlers.ofString());

        assertThatThrownBy(hung::get).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(HttpTimeoutException.class);
        long start = System.nanoTime();
        assertThat(send(valid.get()).statusCode()).isBetween(200, 299); // served while the other one still hangs
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(300));
        receiver.awaitEvents(before + 2, Duration.ofSeconds(2)); // like a slow real service, it did take the hung one
    }

    // ================= helpers =================

    private static String ddEntry(String action) {
        return "{\"ddsource\":\"auditstream\",\"service\":\"auditstream\",\"ddtags\":\"env:test\",\"hostname\":\"h1\","
                + "\"message\":{\"id\":\"e\",\"action\":\"" + action + "\"}}";
    }

    private static String ddEntryPadded(int padChars) {
        return "{\"ddsource\":\"auditstream\",\"service\":\"auditstream\",\"message\":{\"action\":\"a\",\"pad\":\"" + "x".repeat(padChars) + "\"}}";
    }

    private static HttpRequest ddRequest(DatadogIntake dd, byte[] body, String... auth) {
        List<String> headers = new ArrayList<>(List.of("Content-Type", "application/json", "Content-Encoding", "gzip"));
        headers.addAll(List.of(auth));
        return post(dd.baseUrl() + "/api/v2/logs", body, headers.toArray(String[]::new));
    }

    private static HttpRequest ddRequest(DatadogIntake dd, String path, byte[] body) {
        return post(dd.baseUrl() + path, body, "DD-API-KEY", DD_KEY, "Content-Type", "application/json", "Content-Encoding", "gzip");
    }

    private static HttpResponse<String> ddSend(DatadogIntake dd, String json) throws Exception {
        return send(ddRequest(dd, gzip(json), "DD-API-KEY", DD_KEY));
    }

    private static String hecEvent(String action, String time) {
        return "{\"time\":" + time + ",\"source\":\"auditstream\",\"sourcetype\":\"_json\",\"event\":{\"id\":\"e\",\"action\":\"" + action + "\"}}";
    }

    private static HttpResponse<String> hecSend(SplunkHec hec, String body) throws Exception {
        return send(post(hec.baseUrl() + HEC_PATH, bytes(body), "Authorization", "Splunk " + HEC_TOKEN));
    }

    private static String invalid(int code, String text, int eventNumber) {
        return "{\"text\":\"%s\",\"code\":%d,\"invalid-event-number\":%d}".formatted(text, code, eventNumber);
    }

    private static String item(String id, String action) {
        return "{\"event\":{\"id\":\"" + id + "\",\"action\":\"" + action + "\"},\"keySuffix\":\"0123456789ab\","
                + "\"timestamp\":\"2024-01-15T10:30:00.123Z\",\"source\":\"auditstream\"}";
    }

    private static HttpResponse<String> sendItem(WebhookReceiver hook, String item) throws Exception {
        return send(signed(hook.baseUrl(), "[" + item + "]", "application/json"));
    }

    /** A Standard Webhooks request signed now, computed here independently of the receiver. */
    private static HttpRequest signed(String url, String body, String contentType, String... extraHeaders) {
        long now = Instant.now().getEpochSecond();
        List<String> headers = new ArrayList<>(List.of("Content-Type", contentType, "webhook-id", "msg_1",
                "webhook-timestamp", Long.toString(now), "webhook-signature", sign("msg_1", now, body)));
        headers.addAll(List.of(extraHeaders));
        return post(url, bytes(body), headers.toArray(String[]::new));
    }

    private static String sign(String id, long timestamp, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(Base64.getDecoder().decode(SECRET.substring(6)), "HmacSHA256"));
            return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(bytes(id + "." + timestamp + "." + body)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static HttpRequest post(String url, byte[] body, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return b.build();
    }

    private static HttpResponse<String> send(HttpRequest request) throws Exception {
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static void assertResponse(HttpResponse<String> res, int status, String body) {
        assertThat(res.statusCode()).as("status of %s, body %s", res.request().uri(), res.body()).isEqualTo(status);
        assertThat(res.body()).isEqualTo(body);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] gzip(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes(s));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
