package dev.auditstream.it;

import static dev.auditstream.support.StreamApi.actions;
import static dev.auditstream.support.StreamApi.inState;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.auditstream.receivers.DatadogIntake;
import dev.auditstream.receivers.EntraTokenEndpoint;
import dev.auditstream.receivers.LogsIngestion;
import dev.auditstream.receivers.LoopbackReceiver;
import dev.auditstream.api.Timestamps;
import dev.auditstream.receivers.SplunkHec;
import dev.auditstream.receivers.TestCertificates;
import dev.auditstream.receivers.WebhookReceiver;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/** Events reach each destination in its own wire format, in order, once; stream states follow the answers. */
class StreamDeliveryTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String DD_KEY = "dd-api-key-0123456789abcdef";
    private static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    private static final String PUBLISHER = "11111111-2222-3333-4444-555555555555";
    private static final String NO_ROLE = "66666666-7777-8888-9999-000000000000";
    private static final String WEBHOOK_CLIENT = "webhook-client";
    private static final String CLIENT_SECRET = "Q~sentinel.client-secret_value";
    private static final String DCR = "dcr-0123456789abcdef0123456789abcdef";
    private static final String SENTINEL_STREAM = "Custom-AuditStream_CL";
    private static final List<String> COLUMNS = List.of("TimeGenerated", "EventId", "OrganizationId", "Action",
            "ActorId", "ActorType", "ActorName", "Targets", "Location", "UserAgent", "Metadata");

    private static DatadogIntake datadog;
    private static EntraTokenEndpoint entra;
    private static LogsIngestion sentinel;
    private static RunningService service;
    private static StreamApi streams;
    @TempDir
    static Path certificateDir;

    @BeforeAll
    static void start() throws Exception {
        datadog = DatadogIntake.start(DD_KEY);
        entra = EntraTokenEndpoint.start(TENANT, Map.of(PUBLISHER, CLIENT_SECRET, NO_ROLE, CLIENT_SECRET,
                WEBHOOK_CLIENT, CLIENT_SECRET));
        sentinel = LogsIngestion.start(entra, DCR, SENTINEL_STREAM, Set.copyOf(COLUMNS), Set.of(PUBLISHER));
        service = RunningService.start(RunningService.newDataDir("delivery"), Map.of(
                "auditstream.allow-private-destinations", "true",
                "auditstream.entra.authority-url", entra.baseUrl(),
                "auditstream.datadog.intake-url", datadog.baseUrl(),
                "auditstream.delivery.poll-interval", "100",
                "auditstream.delivery.backoff-base", "PT0.2S",
                "auditstream.delivery.backoff-max", "PT1S",
                "auditstream.delivery.invalid-probe-interval", "PT30S",
                "auditstream.delivery.observe-interval", "200"));
        streams = new StreamApi(service);
    }

    @AfterAll
    static void stop() {
        service.close();
        datadog.close();
        sentinel.close();
        entra.close();
    }

    @Test
    void datadogGetsGzippedEntriesWithItsKeyInOrder() throws Exception {
        String org = service.createOrganization("Datadog Org");
        JsonNode stream = streams.create(org, "Datadog",
                "{\"apiKey\":\"" + DD_KEY + "\",\"region\":\"EU1\",\"source\":\"team-name\"}");
        assertThat(stream.get("state").asText()).isEqualTo("active");
        assertThat(stream.at("/config/apiKey").asText()).isEqualTo("••••cdef");

        List<String> sent = streams.send(org, "dd", 5);

        List<JsonNode> received = awaitEntries(datadog, org, 5);
        assertThat(received).extracting(e -> e.at("/message/action").asText()).containsExactlyElementsOf(sent);
        JsonNode first = received.get(0);
        assertThat(first.get("ddsource").asText()).isEqualTo("team-name");
        assertThat(first.get("service").asText()).isEqualTo("audit-logs");
        assertThat(first.fieldNames()).toIterable().containsExactly("message", "ddsource", "service");
        assertThat(first.get("message").fieldNames()).toIterable()
                .containsExactly("id", "action", "targets", "actor", "context", "occurred_at");
        LoopbackReceiver.Recorded request = lastRequestFor(datadog, org);
        assertThat(request.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(request.header("DD-API-KEY")).isEqualTo(DD_KEY);
        assertThat(request.header("Authorization")).isNull();
        assertThat(request.bodyText()).startsWith("[{\"message\":{\"id\":\"");

        String id = stream.get("id").asText();
        JsonNode synced = streams.awaitStream(id, s -> !s.get("last_synced_at").isNull(), WAIT);
        assertThat(synced.get("lag").asLong()).isZero();
        Thread.sleep(500);
        String metrics = RunningService.sendRaw(java.net.http.HttpRequest.newBuilder(
                service.managementUri("/observe/metrics")).build()).body();
        assertThat(metrics).contains("auditstream_stream_events_delivered_total{stream=\"" + id + "\",type=\"Datadog\"} 5.0");
        assertThat(metrics).contains("auditstream_stream_lag_seconds{stream=\"" + id + "\",type=\"Datadog\"} 0.0");
        assertThat(metrics).contains("auditstream_stream_state{state=\"active\",stream=\"" + id + "\",type=\"Datadog\"} 1.0");
    }

    @Test
    void splunkGetsNewlineSeparatedEventsWithTimeInSeconds() throws Exception {
        try (SplunkHec splunk = SplunkHec.start("splunk-token-1234")) {
            String org = service.createOrganization("Splunk Org");
            streams.create(org, "Splunk", "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"splunk-token-1234\","
                    + "\"source\":\"team-name\",\"sourcetype\":\"_json\"}");
            List<String> sent = streams.send(org, "splunk", 3);

            assertThat(actions(splunk.awaitEvents(3, WAIT))).containsExactlyElementsOf(sent);
            // the events may arrive in one request or several
            LoopbackReceiver.Recorded request = answeredWith(splunk, sent.get(2));
            assertThat(request.header("Authorization")).isEqualTo("Splunk splunk-token-1234");
            String[] lines = request.bodyText().split("\n");
            String stored = service.storedEvent(sent.get(2));
            assertThat(lines[lines.length - 1]).isEqualTo("{\"event\":" + stored
                    + ",\"time\":1705314600.000,\"source\":\"team-name\",\"sourcetype\":\"_json\"}");
            JsonNode line = TestJson.read(lines[lines.length - 1]);
            assertThat(line.fieldNames()).toIterable().containsExactly("event", "time", "source", "sourcetype");
            // the test events occurred at 2024-01-15T10:30:00.000Z
            assertThat(lines[lines.length - 1]).contains("\"time\":1705314600.000,");
            assertThat(line.get("source").asText()).isEqualTo("team-name");
        }
    }

    @Test
    void aSplunkSuccessStatusWithAnErrorCodeIsNotADelivery() throws Exception {
        try (SplunkHec splunk = SplunkHec.start("tok-code6")) {
            String org = service.createOrganization("Splunk Code Org");
            String id = streams.create(org, "Splunk", "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"tok-code6\"}")
                    .get("id").asText();
            splunk.answerAlways(200, "{\"text\":\"Invalid data format\",\"code\":6}");
            List<String> sent = streams.send(org, "code6", 3);

            JsonNode failing = streams.awaitStream(id, inState("error"), WAIT);
            assertThat(failing.get("state_reason").asText()).contains("code 6").contains("Invalid data format");
            assertThat(failing.get("last_synced_at").isNull()).isTrue();
            assertThat(streams.deliveries(id)).noneMatch(d -> d.get("outcome").asText().equals("delivered"));

            splunk.recover();
            assertThat(actions(splunk.awaitEvents(3, WAIT))).containsExactlyElementsOf(sent);
        }
    }

    @Test
    void splunkWithIndexerAcknowledgementDeliversOnceTheEventsAreIndexed() throws Exception {
        try (SplunkHec splunk = SplunkHec.builder("tok-ack").indexerAcknowledgement().indexedAfterQueries(3).start()) {
            String org = service.createOrganization("Splunk Ack Org");
            String id = streams.create(org, "Splunk", "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"tok-ack\"}")
                    .get("id").asText();
            List<String> sent = streams.send(org, "ack", 5);

            assertThat(actions(splunk.awaitEvents(5, WAIT))).containsExactlyElementsOf(sent);
            JsonNode synced = streams.awaitStream(id, s -> !s.get("last_synced_at").isNull(), WAIT);
            assertThat(synced.get("state").asText()).isEqualTo("active");
            List<LoopbackReceiver.Recorded> requests = splunk.requests();
            assertThat(requests).allSatisfy(r -> assertThat(r.status()).as(r.toString()).isEqualTo(200));
            assertThat(requests).filteredOn(r -> r.path().equals("/services/collector/ack")).isNotEmpty()
                    .allSatisfy(r -> assertThat(r.header("Authorization")).isEqualTo("Splunk tok-ack"));
            // one channel per stream, the same for every request
            assertThat(requests).extracting(r -> r.header("X-Splunk-Request-Channel")).containsOnly(
                    requests.get(0).header("X-Splunk-Request-Channel"));
        }
    }

    @Test
    void webhooksAreSignedAndAuthenticated() throws Exception {
        String org = service.createOrganization("Webhook Org");
        // the signing secret is generated with the stream, so the receiver learns it from the answer
        JsonNode stream = streams.create(org, "GenericHttps", "{\"url\":\"http://127.0.0.1:1/\",\"format\":\"ndjson\","
                + "\"source\":\"acme\",\"auth\":{\"type\":\"bearer\",\"token\":\"bearer-token-xyz\"}}");
        String secret = stream.at("/config/signingSecret").asText();
        assertThat(secret).startsWith("whsec_");
        assertThat(streams.get(stream.get("id").asText()).at("/config/signingSecret").asText()).startsWith("••••");
        try (WebhookReceiver webhook = WebhookReceiver.builder(secret).bearerToken("bearer-token-xyz").start()) {
            // a new URL takes the credentials again
            streams.patch(stream.get("id").asText(), "{\"config\":{\"url\":\"" + webhook.baseUrl() + "/hooks\","
                    + "\"auth\":{\"token\":\"bearer-token-xyz\"}}}");
            List<String> sent = streams.send(org, "hook", 4);

            List<JsonNode> events = webhook.awaitEvents(4, WAIT);
            assertThat(actions(events)).containsExactlyElementsOf(sent);
            LoopbackReceiver.Recorded request = lastAnswered(webhook);
            assertThat(request.header("Content-Type")).isEqualTo("application/x-ndjson");
            JsonNode line = TestJson.read(request.bodyText().split("\n")[0]);
            assertThat(line.fieldNames()).toIterable().containsExactly("event", "keySuffix", "timestamp", "source");
            assertThat(line.get("keySuffix").asText()).matches("[0-9a-f]{12}");
            assertThat(Instant.parse(line.get("timestamp").asText())).isBefore(Instant.now());
        }
    }

    @Test
    void aWebhookStreamsBatchBytesBoundEachRequestAndEverythingArrivesInOrder() throws Exception {
        String org = service.createOrganization("Small Batches Org");
        JsonNode stream = streams.create(org, "GenericHttps", "{\"url\":\"http://127.0.0.1:1/\",\"maxBatchBytes\":2048}");
        try (WebhookReceiver webhook = WebhookReceiver.start(stream.at("/config/signingSecret").asText())) {
            String id = stream.get("id").asText();
            streams.patch(id, "{\"state\":\"inactive\"}");
            streams.patch(id, "{\"config\":{\"url\":\"" + webhook.baseUrl() + "\"}}");
            List<String> sent = streams.send(org, "small", 12);
            streams.patch(id, "{\"state\":\"active\"}");

            List<JsonNode> events = webhook.awaitEvents(12, WAIT);
            assertThat(actions(events)).containsExactlyElementsOf(sent);
            // a backlog of twelve, read as one batch (one request by default), goes out in requests of at most
            // 2,048 bytes each
            assertThat(webhook.requests()).hasSizeGreaterThan(1)
                    .allSatisfy(r -> assertThat(r.bodyText().getBytes(java.nio.charset.StandardCharsets.UTF_8).length)
                            .isLessThanOrEqualTo(2048));
        }
    }

    @Test
    void actionFiltersChooseWhatAStreamGetsAsAJsonArray() throws Exception {
        String org = service.createOrganization("Filter Org");
        JsonNode stream = streams.create("{\"organization_id\":\"" + org + "\",\"type\":\"GenericHttps\","
                + "\"config\":{\"url\":\"http://127.0.0.1:1/\"},\"filters\":{\"actions\":[\"user.*\",\"team.created.0\"]}}");
        try (WebhookReceiver webhook = WebhookReceiver.start(stream.at("/config/signingSecret").asText())) {
            streams.patch(stream.get("id").asText(), "{\"config\":{\"url\":\"" + webhook.baseUrl() + "\"}}");
            for (String action : List.of("user.signed_in", "document.deleted", "team.created", "team.deleted",
                    "user.signed_out")) {
                streams.send(org, action, 1);
            }
            List<JsonNode> events = webhook.awaitEvents(3, WAIT);
            assertThat(actions(events)).containsExactly("user.signed_in.0", "team.created.0", "user.signed_out.0");
            LoopbackReceiver.Recorded request = lastAnswered(webhook);
            assertThat(request.header("Content-Type")).isEqualTo("application/json");
            assertThat(request.bodyText()).startsWith("[{\"event\":{\"id\":\"");
            Thread.sleep(500);
            assertThat(webhook.events()).hasSize(3);
        }
    }

    @Test
    void aRedirectIsNotFollowedAndMakesTheStreamInvalid() throws Exception {
        String org = service.createOrganization("Redirect Org");
        HttpServer redirector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        redirector.createContext("/", exchange -> {
            exchange.getResponseHeaders().add("Location", "http://169.254.169.254/latest/meta-data");
            exchange.sendResponseHeaders(307, -1);
            exchange.close();
        });
        redirector.start();
        try {
            String url = "http://127.0.0.1:" + redirector.getAddress().getPort() + "/hook";
            String id = streams.create(org, "GenericHttps", "{\"url\":\"" + url + "\"}").get("id").asText();
            streams.send(org, "redirected", 1);
            JsonNode invalid = streams.awaitStream(id, inState("invalid"), WAIT);
            assertThat(invalid.get("state_reason").asText()).contains("307");
        } finally {
            redirector.stop(0);
        }
    }

    @Test
    void anOutageMakesTheStreamErrorAndRecoveryDeliversEverythingOnceInOrder() throws Exception {
        try (SplunkHec splunk = SplunkHec.start("tok-outage")) {
            String org = service.createOrganization("Outage Org");
            String id = streams.create(org, "Splunk", "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"tok-outage\"}")
                    .get("id").asText();
            splunk.failAlways(503);
            List<String> sent = streams.send(org, "outage", 20);

            JsonNode failing = streams.awaitStream(id, inState("error"), WAIT);
            assertThat(failing.get("state_reason").asText()).contains("503").contains("code 9");
            splunk.recover();

            streams.awaitStream(id, inState("active"), WAIT);
            assertThat(actions(splunk.awaitEvents(20, WAIT))).containsExactlyElementsOf(sent);
            Thread.sleep(500);
            assertThat(splunk.events()).hasSize(20);
            assertThat(streams.deliveries(id)).extracting(d -> d.get("outcome").asText()).contains("retry", "delivered");
            JsonNode changes = TestJson.read(service.get("/log_streams/" + id + "/state_changes?order=asc").body());
            assertThat(changes.get("data")).extracting(c -> c.get("from").asText() + ">" + c.get("to").asText())
                    .containsExactly("active>error", "error>active");
            assertThat(changes.at("/data/0/reason").asText()).contains("Server is busy");
        }
    }

    @Test
    void refusedCredentialsMakeTheStreamInvalidWithoutHammeringAndAFixDeliversAtOnce() throws Exception {
        String org = service.createOrganization("Invalid Org");
        String id = streams.create(org, "Datadog", "{\"apiKey\":\"wrong-key-000000000\"}").get("id").asText();
        List<String> sent = streams.send(org, "invalid", 3);

        JsonNode invalid = streams.awaitStream(id, inState("invalid"), WAIT);
        assertThat(invalid.get("state_reason").asText()).contains("403");
        int requestsAfterInvalid = requestsFor(datadog, "wrong-key-000000000");
        Thread.sleep(2000);
        assertThat(requestsFor(datadog, "wrong-key-000000000")).isEqualTo(requestsAfterInvalid);

        streams.patch(id, "{\"config\":{\"apiKey\":\"" + DD_KEY + "\"}}");

        assertThat(awaitEntries(datadog, org, 3)).extracting(e -> e.at("/message/action").asText())
                .containsExactlyElementsOf(sent);
        streams.awaitStream(id, inState("active"), WAIT);
    }

    @Test
    void aPausedStreamSendsNothingAndResumingDeliversTheBacklog() throws Exception {
        String org = service.createOrganization("Paused Org");
        String id = streams.create(org, "Datadog", "{\"apiKey\":\"" + DD_KEY + "\"}").get("id").asText();
        JsonNode paused = streams.patch(id, "{\"state\":\"inactive\"}");
        assertThat(paused.get("state").asText()).isEqualTo("inactive");

        List<String> sent = streams.send(org, "paused", 6);
        Thread.sleep(1000);
        assertThat(entriesFor(datadog, org)).isEmpty();

        assertThat(streams.patch(id, "{\"state\":\"active\"}").get("state").asText()).isEqualTo("active");
        assertThat(awaitEntries(datadog, org, 6)).extracting(e -> e.at("/message/action").asText())
                .containsExactlyElementsOf(sent);
    }

    @Test
    void aRefusedEventIsDeadLetteredAndTheRestDelivered() throws Exception {
        try (SplunkHec splunk = SplunkHec.start("tok-poison")) {
            String org = service.createOrganization("Poison Org");
            String id = streams.create(org, "Splunk", "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"tok-poison\"}")
                    .get("id").asText();
            splunk.rejectEventsWithAction("poison.5");
            streams.patch(id, "{\"state\":\"inactive\"}");
            List<String> sent = streams.send(org, "poison", 12);
            streams.patch(id, "{\"state\":\"active\"}");

            List<String> expected = sent.stream().filter(a -> !a.equals("poison.5")).toList();
            assertThat(actions(splunk.awaitEvents(11, WAIT))).containsExactlyElementsOf(expected);
            List<JsonNode> deliveries = streams.deliveries(id);
            assertThat(deliveries).filteredOn(d -> d.get("outcome").asText().equals("dead_lettered")).hasSize(1)
                    .first().satisfies(d -> assertThat(d.get("event_id").asText()).hasSize(26));
            assertThat(streams.get(id).get("state").asText()).isEqualTo("active");
        }
    }

    @Test
    void aReceiverRefusingEverythingMakesTheStreamErrorWithItsAnswerAndDeadLettersNothing() throws Exception {
        String org = service.createOrganization("Refuses All Org");
        JsonNode stream = streams.create(org, "GenericHttps", "{\"url\":\"http://127.0.0.1:1/\"}");
        String id = stream.get("id").asText();
        try (WebhookReceiver webhook = WebhookReceiver.start(stream.at("/config/signingSecret").asText())) {
            webhook.failAlways(400);
            streams.patch(id, "{\"config\":{\"url\":\"" + webhook.baseUrl() + "\"}}");
            List<String> sent = streams.send(org, "refused", 6);

            JsonNode failing = streams.awaitStream(id, inState("error"), WAIT);
            assertThat(failing.get("state_reason").asText()).contains("400").contains("bad request");
            assertThat(streams.deliveries(id)).noneMatch(d -> d.get("outcome").asText().equals("dead_lettered"));

            webhook.recover();
            assertThat(actions(webhook.awaitEvents(6, WAIT))).containsExactlyElementsOf(sent);
            streams.awaitStream(id, inState("active"), WAIT);
            assertThat(streams.deliveries(id)).noneMatch(d -> d.get("outcome").asText().equals("dead_lettered"));
        }
    }

    @Test
    void aRefusedSignatureOnEveryEventMakesTheStreamInvalid() throws Exception {
        String org = service.createOrganization("Wrong Secret Org");
        String id = streams.create(org, "GenericHttps", "{\"url\":\"http://127.0.0.1:1/\"}").get("id").asText();
        // the receiver was given some other secret: Standard Webhooks libraries answer 400 to every request
        try (WebhookReceiver webhook = WebhookReceiver.builder("whsec_" + java.util.Base64.getEncoder()
                .encodeToString(new byte[32])).refuseBadSignaturesWith(400).start()) {
            streams.patch(id, "{\"config\":{\"url\":\"" + webhook.baseUrl() + "\"}}");
            streams.send(org, "unsigned", 3);

            JsonNode invalid = streams.awaitStream(id, inState("invalid"), WAIT);
            assertThat(invalid.get("state_reason").asText()).contains("400").contains("invalid signature");
            assertThat(streams.deliveries(id)).noneMatch(d -> d.get("outcome").asText().equals("dead_lettered"));
        }
    }

    @Test
    void onePoisonEventAmongAThousandIsTheOnlyDeadLetter() throws Exception {
        String org = service.createOrganization("Thousand Org");
        JsonNode stream = streams.create(org, "GenericHttps", "{\"url\":\"http://127.0.0.1:1/\"}");
        String id = stream.get("id").asText();
        try (WebhookReceiver webhook = WebhookReceiver.start(stream.at("/config/signingSecret").asText())) {
            webhook.rejectEventsWithAction("many.537");
            streams.patch(id, "{\"config\":{\"url\":\"" + webhook.baseUrl() + "\"},\"state\":\"inactive\"}");
            List<String> sent = streams.send(org, "many", 1000);
            streams.patch(id, "{\"state\":\"active\"}");

            List<String> expected = sent.stream().filter(a -> !a.equals("many.537")).toList();
            assertThat(actions(webhook.awaitEvents(999, WAIT))).containsExactlyElementsOf(expected);
            // delivery history is written in groups, and the dead letter is older than a page of deliveries
            String deadLetters = "SELECT count(*) FROM log_stream_delivery WHERE stream_id = '" + id
                    + "' AND outcome = 'dead_lettered'";
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (service.count(deadLetters) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(service.count(deadLetters)).isEqualTo(1);
            assertThat(service.count(deadLetters + " AND error LIKE '%400%'")).isEqualTo(1);
            assertThat(streams.get(id).get("state").asText()).isEqualTo("active");
        }
    }

    @Test
    void anUntrustedCertificateIsAnErrorNamingTheProblem() throws Exception {
        HttpsServer selfSigned = selfSignedServer();
        try {
            String org = service.createOrganization("TLS Org");
            String id = streams.create(org, "Splunk", "{\"url\":\"https://127.0.0.1:"
                    + selfSigned.getAddress().getPort() + "\",\"token\":\"tok-tls\"}").get("id").asText();
            streams.send(org, "tls", 1);

            JsonNode failing = streams.awaitStream(id, inState("error"), WAIT);
            assertThat(failing.get("state_reason").asText()).startsWith("TLS failed: ").contains("certification path");
        } finally {
            selfSigned.stop(0);
        }
    }

    /** An HTTPS server whose certificate no one trusts (made by keytool now, valid for a day). */
    private static HttpsServer selfSignedServer() throws Exception {
        java.nio.file.Path store = java.nio.file.Files.createTempFile("self-signed", ".p12");
        java.nio.file.Files.delete(store);
        Process keytool = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool")
                .toString(), "-genkeypair", "-alias", "hec", "-keyalg", "EC", "-dname", "CN=127.0.0.1", "-validity", "1",
                "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", "changeit")
                .redirectErrorStream(true).start();
        assertThat(keytool.waitFor()).as(new String(keytool.getInputStream().readAllBytes())).isZero();
        java.security.KeyStore keys = java.security.KeyStore.getInstance("PKCS12");
        try (var in = java.nio.file.Files.newInputStream(store)) {
            keys.load(in, "changeit".toCharArray());
        }
        java.nio.file.Files.delete(store);
        javax.net.ssl.KeyManagerFactory managers = javax.net.ssl.KeyManagerFactory.getInstance("PKIX");
        managers.init(keys, "changeit".toCharArray());
        javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
        tls.init(managers.getKeyManagers(), null, null);
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.createContext("/", exchange -> {
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.start();
        return server;
    }

    @Test
    void deadLettersAreResentInOrderOnceTheReceiverTakesThemAndOnlyInTheirOrganization() throws Exception {
        try (SplunkHec splunk = SplunkHec.start("tok-redrive")) {
            String org = service.createOrganization("Redrive Org");
            String id = streams.create(org, "Splunk", "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"tok-redrive\"}")
                    .get("id").asText();
            splunk.rejectEventsWithAction("redrive.3");
            streams.patch(id, "{\"state\":\"inactive\"}");
            List<String> sent = streams.send(org, "redrive", 8);
            streams.patch(id, "{\"state\":\"active\"}");
            splunk.awaitEvents(7, WAIT);
            assertThat(streams.awaitStream(id, s -> s.get("dead_letters").asInt() == 1, WAIT)
                    .get("dead_letters").asInt()).isEqualTo(1);

            String other = service.createOrganization("Not Redrive Org");
            assertThat(service.post("/log_streams/" + id + "/dead_letters/redrive?organization_id=" + other, "{}")
                    .statusCode()).isEqualTo(404);
            assertThat(service.post("/log_streams/" + id + "/dead_letters/redrive", "{\"ids\":\"all\"}")
                    .statusCode()).isEqualTo(422);

            splunk.recover();
            var redrive = service.post("/log_streams/" + id + "/dead_letters/redrive?organization_id=" + org, "");
            assertThat(redrive.statusCode()).as(redrive.body()).isEqualTo(202);
            assertThat(TestJson.read(redrive.body()).get("redriving").asInt()).isEqualTo(1);

            List<String> redriveLast = new java.util.ArrayList<>(sent);
            redriveLast.remove("redrive.3");
            redriveLast.add("redrive.3");
            assertThat(actions(splunk.awaitEvents(8, WAIT))).containsExactlyElementsOf(redriveLast);
            streams.awaitStream(id, s -> s.get("dead_letters").asInt() == 0, WAIT);
            assertThat(streams.deliveries(id)).anyMatch(d -> d.get("outcome").asText().equals("redriven"));
            Thread.sleep(300);
            assertThat(splunk.events()).hasSize(8);
            // the dead letter counts as delivered once its redrive got through, and only then
            RunningService.await("the redriven event counted", () -> TestJson.read(service.get("/organizations/" + org
                    + "/usage").body()).get("events_delivered").asLong() == 8);
        }
    }

    @Test
    void theTestEndpointSaysWhatTheDestinationAnswered() throws Exception {
        String org = service.createOrganization("Test Org");
        String good = streams.create(org, "Datadog", "{\"apiKey\":\"" + DD_KEY + "\"}").get("id").asText();
        String bad = streams.create(org, "Datadog", "{\"apiKey\":\"not-the-key-0000\"}").get("id").asText();

        var okResponse = service.post("/log_streams/" + good + "/test", "{}");
        JsonNode ok = TestJson.read(okResponse.body());
        assertThat(ok.get("success").asBoolean()).isTrue();
        assertThat(ok.get("http_status").asInt()).isEqualTo(202);
        JsonNode refused = TestJson.read(service.post("/log_streams/" + bad + "/test", "{}").body());
        assertThat(refused.get("success").asBoolean()).isFalse();
        assertThat(refused.get("http_status").asInt()).isEqualTo(403);
        assertThat(refused.get("error").asText()).contains("Forbidden");
        assertThat(refused.toString()).doesNotContain("not-the-key-0000");
    }

    @Test
    void sentinelGetsTheExactRecordsWithATokenFromEntra() throws Exception {
        String org = service.createOrganization("Sentinel Org");
        JsonNode stream = streams.create(org, "MicrosoftSentinel", sentinelConfig(PUBLISHER, CLIENT_SECRET));
        assertThat(stream.get("state").asText()).isEqualTo("active");
        assertThat(stream.at("/config/clientSecret").asText()).isEqualTo("••••alue");

        List<String> sent = streams.send(org, "sentinel", 3);

        List<JsonNode> records = awaitRecords(org, 3);
        for (int i = 0; i < 3; i++) {
            String eventId = TestJson.read(service.storedEvent(sent.get(i))).get("id").asText();
            assertThat(records.get(i).toString()).isEqualTo("{\"TimeGenerated\":\"2024-01-15T10:30:00.000Z\","
                    + "\"EventId\":\"" + eventId + "\",\"OrganizationId\":\"" + org + "\",\"Action\":\"" + sent.get(i)
                    + "\",\"ActorId\":\"user_456\",\"ActorType\":\"user\",\"ActorName\":\"" + org + "\","
                    + "\"Targets\":[{\"id\":\"user_123\",\"type\":\"user\"}],\"Location\":\"192.168.1.1\","
                    + "\"UserAgent\":\"Chrome/91.0\",\"Metadata\":null}");
        }
        List<LoopbackReceiver.Recorded> calls = sentinel.requests().stream().filter(r -> r.status() == 204).toList();
        assertThat(calls).isNotEmpty().allSatisfy(call -> {
            assertThat(call.header("Content-Encoding")).isEqualTo("gzip");
            assertThat(call.query()).isEqualTo("api-version=2023-01-01");
            assertThat(entra.clientOf(call.header("Authorization").substring(7)).clientId()).isEqualTo(PUBLISHER);
        });
        // one token, cached for the following calls
        assertThat(entra.requests()).filteredOn(r -> r.bodyText().contains(PUBLISHER) && r.status() == 200).hasSize(1);
        assertThat(entra.requests().get(0).bodyText()).contains("scope=https%3A%2F%2Fmonitor.azure.com%2F.default");

        JsonNode setup = TestJson.read(service.get("/log_streams/" + stream.get("id").asText() + "/setup").body());
        assertThat(setup.get("table_name").asText()).isEqualTo("AuditStream_CL");
        assertThat(setup.at("/table/properties/schema/columns").findValuesAsText("name"))
                .containsExactlyElementsOf(COLUMNS);
        JsonNode rule = setup.at("/data_collection_rule/properties");
        assertThat(rule.at("/streamDeclarations/" + SENTINEL_STREAM + "/columns").findValuesAsText("name"))
                .containsExactlyElementsOf(COLUMNS);
        assertThat(rule.at("/dataFlows/0/outputStream").asText()).isEqualTo("Custom-AuditStream_CL");
        assertThat(rule.at("/dataFlows/0/transformKql").asText()).isEqualTo("source");
    }

    @Test
    void sentinelCallsStayWithinOneMegabyte() throws Exception {
        String org = service.createOrganization("Sentinel Big Org");
        String id = streams.create(org, "MicrosoftSentinel", sentinelConfig(PUBLISHER, CLIENT_SECRET))
                .get("id").asText();
        streams.patch(id, "{\"state\":\"inactive\"}");
        StringBuilder metadata = new StringBuilder();
        for (int k = 0; k < 50; k++) {
            metadata.append(k == 0 ? "" : ",").append("\"key").append(k).append("\":\"").append("x".repeat(490)).append('"');
        }
        int count = 80;
        for (int i = 0; i < count; i++) {
            var response = service.post("/audit_logs/events", TestJson.event(org, "big." + i)
                    .replace("Jon Smith", org).replace("\"context\"", "\"metadata\":{" + metadata + "},\"context\""));
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        }
        // reads of 60 events (~1.5 MB), which the limit cuts at ~40: the batch read ahead from the 61st event while
        // the first call was sent must be dropped, not sent after the 40th
        service.execute("UPDATE log_stream SET batch_limit = 60 WHERE id = '" + id + "'");
        streams.patch(id, "{\"state\":\"active\"}");

        List<JsonNode> records = awaitRecords(org, count);
        assertThat(records).extracting(r -> r.get("Action").asText())
                .containsExactlyElementsOf(java.util.stream.IntStream.range(0, count).mapToObj(i -> "big." + i).toList());
        assertThat(records.get(0).at("/Metadata/key49").asText()).hasSize(490);
        List<LoopbackReceiver.Recorded> calls = sentinel.requests().stream()
                .filter(r -> r.bodyText().contains(org)).toList();
        assertThat(calls).allSatisfy(call -> {
            assertThat(call.status()).isEqualTo(204);
            assertThat(call.body().length).isLessThanOrEqualTo(LogsIngestion.MAX_CALL_BYTES);
        });
        // the backlog went in calls filled close to the limit, not one event each
        assertThat(calls).anySatisfy(call -> assertThat(call.body().length).isGreaterThan(900_000));
    }

    @Test
    void sentinelRefusalsMakeTheStreamInvalidWithWhatToDo() throws Exception {
        String org = service.createOrganization("Sentinel Invalid Org");
        String badSecret = streams.create(org, "MicrosoftSentinel", sentinelConfig(PUBLISHER, "Q~wrong-secret"))
                .get("id").asText();
        String noRole = streams.create(org, "MicrosoftSentinel", sentinelConfig(NO_ROLE, CLIENT_SECRET))
                .get("id").asText();
        streams.send(org, "refused", 1);

        JsonNode secretRefused = streams.awaitStream(badSecret, inState("invalid"), WAIT);
        assertThat(secretRefused.get("state_reason").asText())
                .contains("HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided")
                .contains("Check the client ID, the client secret")
                .doesNotContain("Q~wrong-secret");
        JsonNode roleMissing = streams.awaitStream(noRole, inState("invalid"), WAIT);
        assertThat(roleMissing.get("state_reason").asText())
                .contains("HTTP 403 OperationFailed")
                .contains("Assign it the 'Monitoring Metrics Publisher' role on the rule");
    }

    @Test
    void oauth2WebhooksGetATokenRenewItOnceWhenRefusedThenGoInvalid() throws Exception {
        String org = service.createOrganization("OAuth2 Org");
        String auth = "\"auth\":{\"type\":\"oauth2\",\"tokenUrl\":\"" + entra.baseUrl() + "/" + TENANT
                + "/oauth2/v2.0/token\",\"clientId\":\"" + WEBHOOK_CLIENT + "\",\"clientSecret\":\"" + CLIENT_SECRET
                + "\",\"scope\":\"api://siem/.default\"}";
        JsonNode stream = streams.create(org, "GenericHttps", "{\"url\":\"http://127.0.0.1:1/\"," + auth + "}");
        String id = stream.get("id").asText();
        assertThat(streams.get(id).at("/config/auth/clientSecret").asText()).startsWith("••••");
        try (WebhookReceiver webhook = WebhookReceiver.builder(stream.at("/config/signingSecret").asText())
                .oauth2(entra).start()) {
            streams.patch(id, "{\"config\":{\"url\":\"" + webhook.baseUrl() + "\"," + auth + "}}");
            List<String> sent = new java.util.ArrayList<>(streams.send(org, "oauth", 2));
            webhook.awaitEvents(2, WAIT);
            entra.revokeTokensOf(WEBHOOK_CLIENT);
            sent.addAll(streams.send(org, "oauth.after", 2));

            assertThat(actions(webhook.awaitEvents(4, WAIT))).containsExactlyElementsOf(sent);
            assertThat(entra.requests()).filteredOn(r -> r.status() == 200
                    && r.bodyText().contains("scope=api%3A%2F%2Fsiem%2F.default")).hasSize(2);

            webhook.failAlways(401);
            streams.send(org, "oauth.refused", 1);
            JsonNode invalid = streams.awaitStream(id, inState("invalid"), WAIT);
            assertThat(invalid.get("state_reason").asText()).startsWith("The endpoint refused a newly issued OAuth2 token");
        }
        String wrong = streams.create(org, "GenericHttps", "{\"url\":\"http://127.0.0.1:1/\","
                + auth.replace(CLIENT_SECRET, "Q~not-the-secret") + "}").get("id").asText();
        streams.send(org, "oauth.wrong", 1);
        assertThat(streams.awaitStream(wrong, inState("invalid"), WAIT).get("state_reason").asText())
                .contains("AADSTS7000215").doesNotContain("Q~not-the-secret");
    }

    @Test
    void aRotatedSigningSecretSignsAlongsideTheOldOneDuringTheOverlap() throws Exception {
        String org = service.createOrganization("Rotation Org");
        JsonNode stream = streams.create(org, "GenericHttps", "{\"url\":\"http://127.0.0.1:1/\"}");
        String id = stream.get("id").asText();
        String old = stream.at("/config/signingSecret").asText();
        try (WebhookReceiver webhook = WebhookReceiver.start(old)) {
            streams.patch(id, "{\"config\":{\"url\":\"" + webhook.baseUrl() + "\"}}");
            streams.send(org, "before", 1);
            webhook.awaitEvents(1, WAIT);
            // the cursor moved past it (a rotation, like any change, takes the stream from a delivery in progress)
            streams.awaitStream(id, s -> !s.get("last_synced_at").isNull(), WAIT);

            var rotated = service.post("/log_streams/" + id + "/signing_secret/rotate", "{}");
            assertThat(rotated.statusCode()).as(rotated.body()).isEqualTo(200);
            String fresh = TestJson.read(rotated.body()).get("signingSecret").asText();
            assertThat(fresh).startsWith("whsec_").isNotEqualTo(old);
            JsonNode config = streams.get(id).get("config");
            assertThat(config.get("signingSecret").asText()).startsWith("••••");
            assertThat(config.get("previousSigningSecret").asText()).startsWith("••••");
            assertThat(Instant.parse(config.get("previousSigningSecretExpiresAt").asText()))
                    .isAfter(Instant.now().plus(Duration.ofHours(23)));

            webhook.requireSignaturesBy(old, fresh);
            List<String> after = streams.send(org, "after", 2);
            assertThat(actions(webhook.awaitEvents(3, WAIT))).containsExactly("before.0", "after.0", "after.1");
            assertThat(answeredWith(webhook, "after.1").header("webhook-signature").split(" ")).hasSize(2)
                    .allSatisfy(signature -> assertThat(signature).startsWith("v1,"));
            // the customer cannot set what the rotation keeps
            var refused = service.send(java.net.http.HttpRequest.newBuilder(service.uri("/log_streams/" + id))
                    .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString(
                            "{\"config\":{\"previousSigningSecretExpiresAt\":\"2999-01-01T00:00:00.000Z\"}}")));
            assertThat(refused.statusCode()).isEqualTo(422);
        }
    }

    @Test
    void anUnsavedConfigIsTestedWithoutStoringAnything() throws Exception {
        String org = service.createOrganization("Unsaved Test Org");
        JsonNode ok = TestJson.read(service.post("/log_streams/test", "{\"organization_id\":\"" + org
                + "\",\"type\":\"MicrosoftSentinel\",\"config\":" + sentinelConfig(PUBLISHER, CLIENT_SECRET) + "}").body());
        assertThat(ok.toString()).isEqualTo("{\"success\":true,\"state\":\"active\",\"http_status\":204}");
        assertThat(sentinel.events()).anySatisfy(record -> {
            assertThat(record.get("OrganizationId").asText()).isEqualTo(org);
            assertThat(record.get("Action").asText()).isEqualTo("auditstream.test_event");
        });

        var refused = service.post("/log_streams/test", "{\"organization_id\":\"" + org
                + "\",\"type\":\"Datadog\",\"config\":{\"apiKey\":\"not-the-key-unsaved\"}}");
        assertThat(refused.statusCode()).isEqualTo(200);
        JsonNode answer = TestJson.read(refused.body());
        assertThat(answer.get("success").asBoolean()).isFalse();
        assertThat(answer.get("state").asText()).isEqualTo("invalid");
        assertThat(answer.get("http_status").asInt()).isEqualTo(403);
        assertThat(refused.body()).doesNotContain("not-the-key-unsaved");

        var incomplete = service.post("/log_streams/test", "{\"organization_id\":\"" + org
                + "\",\"type\":\"Datadog\",\"config\":{}}");
        assertThat(incomplete.statusCode()).isEqualTo(422);
        assertThat(incomplete.body()).contains("config.apiKey");
        assertThat(TestJson.read(service.get("/log_streams?organization_id=" + org).body()).get("data")).isEmpty();
    }

    @Test
    void sentinelConfigIsCheckedMemberByMember() throws Exception {
        String org = service.createOrganization("Sentinel Config Org");
        var refused = service.post("/log_streams", "{\"organization_id\":\"" + org + "\",\"type\":\"MicrosoftSentinel\","
                + "\"config\":{\"tenantId\":\"../common\",\"clientId\":\"abc\",\"clientSecret\":\"s\","
                + "\"dataCollectionEndpoint\":\"https://dce.example.com/?x=1\",\"dcrImmutableId\":\"dcr-xyz\","
                + "\"streamName\":\"AuditStream\",\"cloud\":\"Mars\"}}");
        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(TestJson.read(refused.body()).get("errors").findValuesAsText("field")).containsExactlyInAnyOrder(
                "config.tenantId", "config.clientId", "config.dataCollectionEndpoint", "config.dcrImmutableId",
                "config.streamName", "config.cloud");
        var notAUrl = service.post("/log_streams", "{\"organization_id\":\"" + org + "\",\"type\":\"MicrosoftSentinel\","
                + "\"config\":{\"dataCollectionEndpoint\":\"https://dce example\"}}");
        assertThat(notAUrl.statusCode()).isEqualTo(422);
        JsonNode incomplete = streams.create(org, "MicrosoftSentinel", "{\"tenantId\":\"contoso.onmicrosoft.com\"}");
        assertThat(incomplete.get("state").asText()).isEqualTo("inactive");
        assertThat(incomplete.get("state_reason").asText()).isEqualTo("Configuration incomplete: missing clientId,"
                + " clientSecret, dataCollectionEndpoint, dcrImmutableId, streamName.");
    }

    @Test
    void mtlsWebhooksPresentTheStreamsCertificateAndGoInvalidWhenItIsRefused() throws Exception {
        TestCertificates.Identity server = TestCertificates.create(certificateDir, "receiver", null, 30);
        TestCertificates.Identity client = TestCertificates.create(certificateDir, "stream-client", null, 30);
        TestCertificates.Identity stranger = TestCertificates.create(certificateDir, "stranger", null, 30);
        String org = service.createOrganization("mTLS Org");
        try (WebhookReceiver webhook = WebhookReceiver.builder("whsec_" + java.util.Base64.getEncoder()
                .encodeToString(new byte[32])).mutualTls(TestCertificates.serverTls(server, client)).start()) {
            // the receiver's own certificate is trusted through caCertificate (a private CA's, here self-signed)
            JsonNode stream = streams.create(org, "GenericHttps", "{\"url\":\"" + webhook.baseUrl() + "/hooks\","
                    + mtls(client.certificatePem(), client.keyPem(), server.certificatePem()) + "}");
            String id = stream.get("id").asText();
            assertThat(stream.get("warnings")).isEmpty();
            assertThat(stream.at("/config/auth/clientKey").asText()).startsWith("••••");
            assertThat(stream.at("/config/auth/clientCertificate").asText()).isEqualTo(client.certificatePem());
            assertThat(Instant.parse(stream.at("/config/auth/clientCertificateExpiresAt").asText()))
                    .isEqualTo(client.certificate().getNotAfter().toInstant());
            webhook.requireSignaturesBy(stream.at("/config/signingSecret").asText());

            List<String> sent = streams.send(org, "mtls", 1);
            assertThat(actions(webhook.awaitEvents(1, WAIT))).containsExactlyElementsOf(sent);
            LoopbackReceiver.Recorded request = answeredWith(webhook, sent.get(0));
            assertThat(request.status()).isBetween(200, 299);
            JsonNode item = TestJson.read(request.bodyText()).get(0);
            assertThat(request.bodyText()).isEqualTo("[{\"event\":" + service.storedEvent(sent.get(0))
                    + ",\"keySuffix\":\"" + item.get("keySuffix").asText() + "\",\"timestamp\":\""
                    + item.get("timestamp").asText() + "\"}]");

            // a test of an unsaved config connects with its identity too: the HTTP answer is the signature's refusal
            // (an unsaved config has a signing secret of its own, which the receiver does not know)
            JsonNode tested = TestJson.read(service.post("/log_streams/test", "{\"organization_id\":\"" + org
                    + "\",\"type\":\"GenericHttps\",\"config\":{\"url\":\"" + webhook.baseUrl() + "\","
                    + mtls(client.certificatePem(), client.keyPem(), server.certificatePem()) + "}}").body());
            assertThat(tested.get("http_status").asInt()).as(tested.toString()).isEqualTo(401);

            try (WebhookReceiver strict = WebhookReceiver.builder(stream.at("/config/signingSecret").asText())
                    .mutualTls(TestCertificates.serverTls(server, client), "TLSv1.2").start()) {
                // a certificate the receiver does not trust: refused in the handshake, the stream is invalid
                streams.patch(id, "{\"config\":{\"url\":\"" + strict.baseUrl() + "\","
                        + mtls(stranger.certificatePem(), stranger.keyPem(), server.certificatePem()) + "}}");
                streams.send(org, "mtls.refused", 1);
                JsonNode invalid = streams.awaitStream(id, inState("invalid"), WAIT);
                // the JDK's server closes the connection without its alert: either is read as the refusal
                assertThat(invalid.get("state_reason").asText()).satisfiesAnyOf(
                        reason -> assertThat(reason).startsWith("The endpoint refused the client certificate in the"
                                + " TLS handshake"),
                        reason -> assertThat(reason).startsWith("The endpoint closed the connection during the TLS"
                                + " handshake").contains("it most likely refused it"));

                // the stream's key again: delivered at once (the changed config builds the stream's TLS client anew)
                streams.patch(id, "{\"config\":{" + mtls(client.certificatePem(), client.keyPem(),
                        server.certificatePem()) + "}}");
                assertThat(actions(strict.awaitEvents(1, WAIT))).containsExactly("mtls.refused.0");
            }
        }
    }

    @Test
    void mtlsCertificatesAreCheckedWhenConfigured() throws Exception {
        TestCertificates.Identity client = TestCertificates.create(certificateDir, "checked-client", null, 30);
        TestCertificates.Identity other = TestCertificates.create(certificateDir, "other-key", null, 30);
        TestCertificates.Identity expired = TestCertificates.create(certificateDir, "expired", "-10d", 2);
        TestCertificates.Identity early = TestCertificates.create(certificateDir, "not-yet", "+5d", 30);
        TestCertificates.Identity expiring = TestCertificates.create(certificateDir, "expiring", null, 5);
        String org = service.createOrganization("mTLS Config Org");

        assertThat(refusedFields(org, mtls(client.certificatePem(), other.keyPem(), null)))
                .containsExactly("config.auth.clientKey:key_mismatch");
        assertThat(refusedFields(org, mtls(expired.certificatePem(), expired.keyPem(), null)))
                .containsExactly("config.auth.clientCertificate:expired");
        assertThat(refusedFields(org, mtls(early.certificatePem(), early.keyPem(), null)))
                .containsExactly("config.auth.clientCertificate:not_yet_valid");
        assertThat(refusedFields(org, mtls("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
                "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")))
                .containsExactlyInAnyOrder("config.auth.clientCertificate:invalid_pem",
                        "config.auth.clientKey:invalid_pem", "config.auth.caCertificate:invalid_pem");

        JsonNode soon = streams.create(org, "GenericHttps", "{\"url\":\"https://127.0.0.1:1/\","
                + mtls(expiring.certificatePem(), expiring.keyPem(), null) + "}");
        assertThat(soon.get("warnings")).hasSize(1);
        assertThat(soon.get("warnings").get(0).asText()).startsWith("The client certificate expires at "
                + Timestamps.iso(expiring.certificate().getNotAfter().toInstant()));
        // another kind of authentication: no certificate, no warning
        JsonNode bearer = streams.patch(soon.get("id").asText(),
                "{\"config\":{\"auth\":{\"type\":\"bearer\",\"token\":\"t\",\"clientCertificate\":null,\"clientKey\":null}}}");
        assertThat(bearer.get("warnings")).isEmpty();
        assertThat(bearer.at("/config/auth").has("clientCertificateExpiresAt")).isFalse();
    }

    private static String mtls(String certificate, String key, String ca) {
        return "\"auth\":{\"type\":\"mtls\",\"clientCertificate\":" + TestJson.quote(certificate) + ",\"clientKey\":"
                + TestJson.quote(key) + (ca == null ? "" : ",\"caCertificate\":" + TestJson.quote(ca)) + "}";
    }

    /** The 422's {@code field:code} pairs for a GenericHttps stream with this auth. */
    private static List<String> refusedFields(String org, String auth) throws Exception {
        var refused = service.post("/log_streams", "{\"organization_id\":\"" + org + "\",\"type\":\"GenericHttps\","
                + "\"config\":{\"url\":\"https://127.0.0.1:1/\"," + auth + "}}");
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(422);
        List<String> fields = new java.util.ArrayList<>();
        TestJson.read(refused.body()).get("errors").forEach(e -> fields.add(e.get("field").asText() + ":"
                + e.get("code").asText()));
        return fields;
    }

    private static String sentinelConfig(String clientId, String secret) {
        return "{\"tenantId\":\"" + TENANT + "\",\"clientId\":\"" + clientId + "\",\"clientSecret\":\"" + secret
                + "\",\"dataCollectionEndpoint\":\"" + sentinel.baseUrl() + "\",\"dcrImmutableId\":\"" + DCR
                + "\",\"streamName\":\"" + SENTINEL_STREAM + "\"}";
    }

    /** The records of the organization's events, waiting until there are {@code count}. */
    private static List<JsonNode> awaitRecords(String org, int count) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<JsonNode> records = List.of();
        while (records.size() < count && System.nanoTime() < deadline) {
            records = sentinel.events().stream().filter(r -> org.equals(r.get("OrganizationId").asText())).toList();
            Thread.sleep(50);
        }
        assertThat(records).hasSize(count);
        return records;
    }

    private static List<JsonNode> entriesFor(DatadogIntake intake, String org) {
        // the test events name no organization, so entries are told apart by the stream's events' actions' prefix
        return intake.requests().stream()
                .filter(r -> r.status() == 202)
                .flatMap(r -> { List<JsonNode> list = new java.util.ArrayList<>();
                    TestJson.read(new String(r.body(), StandardCharsets.UTF_8)).forEach(list::add); return list.stream(); })
                .filter(e -> orgOf(e).equals(org))
                .toList();
    }

    private static String orgOf(JsonNode entry) {
        return entry.at("/message/actor/name").asText("");
    }

    private static List<JsonNode> awaitEntries(DatadogIntake intake, String org, int count) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (entriesFor(intake, org).size() < count && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(entriesFor(intake, org)).hasSize(count);
        return entriesFor(intake, org);
    }

    private static LoopbackReceiver.Recorded lastRequestFor(DatadogIntake intake, String org) {
        return intake.requests().stream().filter(r -> r.status() == 202)
                .filter(r -> new String(r.body(), StandardCharsets.UTF_8).contains(org)).reduce((a, b) -> b).orElseThrow();
    }


    /** The answered request that carried this action (recorded just after its events were counted). */
    private static LoopbackReceiver.Recorded answeredWith(LoopbackReceiver receiver, String action)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < deadline) {
            for (LoopbackReceiver.Recorded request : receiver.requests()) {
                if (request.bodyText().contains("\"action\":\"" + action + "\"")) {
                    return request;
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no answered request carried " + action);
    }

    /** Events count as accepted before their request is recorded as answered: wait for the record. */
    private static LoopbackReceiver.Recorded lastAnswered(LoopbackReceiver receiver) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (receiver.requests().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        List<LoopbackReceiver.Recorded> requests = receiver.requests();
        return requests.get(requests.size() - 1);
    }

    private static int requestsFor(DatadogIntake intake, String apiKey) {
        return (int) intake.requests().stream().filter(r -> apiKey.equals(r.header("DD-API-KEY"))).count();
    }
}
