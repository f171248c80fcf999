package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import dev.auditstream.receivers.SplunkHec;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/**
 * The stream API around delivery: configuration checks, secrets that never come back or reach the logs, requests
 * that name another organization, private addresses, replay, and health that is not a destination's business.
 */
class StreamManagementTest {

    private static RunningService service;
    private static StreamApi streams;

    @BeforeAll
    static void start() throws Exception {
        // private destinations are NOT allowed here: that rule is under test
        service = RunningService.start(RunningService.newDataDir("stream-management"),
                Map.of("auditstream.audit-trail.enabled", "true", "auditstream.delivery.poll-interval", "100"));
        streams = new StreamApi(service);
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    @Test
    void badConfigurationIs422AndMissingConfigurationIsInactive() throws Exception {
        String org = service.createOrganization("Config Org");
        HttpResponse<String> bad = service.post("/log_streams", "{\"organization_id\":\"" + org + "\",\"type\":\"Datadog\","
                + "\"config\":{\"apiKey\":5,\"region\":\"MARS\",\"colour\":\"red\"},\"filters\":{\"actions\":[\"\"]}}");
        assertThat(bad.statusCode()).isEqualTo(422);
        assertThat(TestJson.read(bad.body()).get("errors"))
                .extracting(e -> tuple(e.get("field").asText(), e.get("code").asText()))
                .containsExactlyInAnyOrder(tuple("config.apiKey", "invalid_type"), tuple("config.region", "invalid"),
                        tuple("config.colour", "unknown_field"), tuple("filters.actions[0]", "invalid"));
        for (String size : List.of("100", "6000000", "\"4096\"", "4096.5")) {
            HttpResponse<String> badSize = service.post("/log_streams", "{\"organization_id\":\"" + org
                    + "\",\"type\":\"GenericHttps\",\"config\":{\"url\":\"https://example.com/in\","
                    + "\"maxBatchBytes\":" + size + "}}");
            assertThat(badSize.statusCode()).as(size).isEqualTo(422);
            assertThat(TestJson.read(badSize.body()).get("errors")).extracting(e -> e.get("field").asText())
                    .containsExactly("config.maxBatchBytes");
        }
        assertThat(streams.create(service.createOrganization("Sizes Org"), "GenericHttps",
                "{\"url\":\"https://example.com/in\",\"maxBatchBytes\":4096}")
                .at("/config/maxBatchBytes").asLong()).isEqualTo(4096);
        HttpResponse<String> unknownType = service.post("/log_streams",
                "{\"organization_id\":\"" + org + "\",\"type\":\"Carrier pigeon\"}");
        assertThat(unknownType.statusCode()).isEqualTo(422);
        assertThat(service.count("SELECT count(*) FROM log_stream WHERE organization_id = '" + org + "'")).isZero();

        JsonNode incomplete = streams.create(org, "Splunk", "{\"source\":\"app\"}");
        assertThat(incomplete.get("state").asText()).isEqualTo("inactive");
        assertThat(incomplete.get("state_reason").asText()).isEqualTo("Configuration incomplete: missing url, token.");

        assertThat(service.post("/log_streams", "{\"organization_id\":\"org_none\",\"type\":\"Datadog\"}").statusCode())
                .isEqualTo(404);
    }

    @Test
    void eachKindOfStringHasItsOwnLimitAndThe422NamesIt() throws Exception {
        String org = service.createOrganization("Limits Org");
        String secret = "s".repeat(16 * 1024);
        JsonNode fits = streams.create("{\"organization_id\":\"" + org + "\",\"type\":\"GenericHttps\",\"name\":\""
                + "n".repeat(255) + "\",\"config\":{\"url\":\"https://example.com/" + "p".repeat(2048 - 20)
                + "\",\"auth\":{\"type\":\"bearer\",\"token\":\"" + secret + "\"}}}");
        assertThat(fits.get("name").asText()).hasSize(255);

        HttpResponse<String> tooLong = service.post("/log_streams", "{\"organization_id\":\"" + org
                + "\",\"type\":\"GenericHttps\",\"name\":\"" + "n".repeat(256) + "\",\"config\":{\"url\":\"https://"
                + "example.com/" + "p".repeat(2048 - 19) + "\",\"auth\":{\"type\":\"bearer\",\"token\":\"" + secret
                + "s\"},\"source\":\"" + "x".repeat(1001) + "\"}}");
        assertThat(tooLong.statusCode()).isEqualTo(422);
        assertThat(TestJson.read(tooLong.body()).get("errors"))
                .extracting(e -> tuple(e.get("field").asText(), e.get("code").asText(), e.get("message").asText()))
                .containsExactlyInAnyOrder(
                        tuple("name", "too_long", "name is at most 255 characters (the limit for a name)."),
                        tuple("config.url", "too_long", "config.url is at most 2048 characters (the limit for a URL)."),
                        tuple("config.auth.token", "too_long",
                                "config.auth.token is at most 16384 characters (the limit for a secret or key file)."),
                        tuple("config.source", "too_long", "config.source is at most 1000 characters (the limit for a value)."));
    }

    @Test
    void secretsAreEncryptedMaskedAndNeverLogged() throws Exception {
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(captured);
        List<ILoggingEvent> logged = captured.list;
        String org = service.createOrganization("Secret Org");
        String secret = "datadog-api-key-SUPERSECRET-7f3a";
        JsonNode stream = streams.create(org, "Datadog", "{\"apiKey\":\"" + secret + "\"}");
        String id = stream.get("id").asText();
        assertThat(stream.at("/config/apiKey").asText()).isEqualTo("••••7f3a");
        assertThat(streams.get(id).toString()).doesNotContain(secret);
        assertThat(service.get("/log_streams?organization_id=" + org).body()).doesNotContain(secret);
        assertThat(service.count("SELECT count(*) FROM log_stream WHERE id = '" + id + "' AND (config::text LIKE '%SUPERSECRET%'"
                + " OR encode(secrets, 'escape') LIKE '%SUPERSECRET%')")).isZero();

        // a client that echoes the masked value back keeps the stored secret
        JsonNode renamed = streams.patch(id, "{\"name\":\"Renamed\",\"config\":{\"apiKey\":\"••••7f3a\",\"source\":\"x\"}}");
        assertThat(renamed.get("name").asText()).isEqualTo("Renamed");
        JsonNode tested = TestJson.read(service.post("/log_streams/" + id + "/test", "{}").body());
        assertThat(tested.get("success").asBoolean()).isFalse();
        assertThat(tested.toString()).doesNotContain(secret);
        root.detachAppender(captured);

        assertThat(logged).extracting(ILoggingEvent::getFormattedMessage).noneMatch(m -> m.contains(secret));
        assertThat(logged).extracting(e -> e.getThrowableProxy() == null ? "" : e.getThrowableProxy().getMessage() + "")
                .noneMatch(m -> m.contains(secret));
    }

    @Test
    void aStreamIsOnlyReachedThroughItsOwnOrganization() throws Exception {
        String owner = service.createOrganization("Owner");
        String other = service.createOrganization("Other");
        // a stream with nothing to deliver (not even its own log_stream.created), so only these calls could change it
        String id = streams.create("{\"organization_id\":\"" + owner + "\",\"type\":\"Datadog\",\"config\":"
                + "{\"apiKey\":\"dd-key-owner-000000\"},\"filters\":{\"actions\":[\"user.*\"]}}").get("id").asText();
        String before = streams.get(id).toString();

        String wrong = "?organization_id=" + other;
        assertThat(service.get("/log_streams/" + id + wrong).statusCode()).isEqualTo(404);
        assertThat(service.send(HttpRequest.newBuilder(service.uri("/log_streams/" + id + wrong))
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"state\":\"inactive\",\"name\":\"x\"}")))
                .statusCode()).isEqualTo(404);
        assertThat(service.post("/log_streams/" + id + "/replay" + wrong, "{\"from\":\"2024-01-01T00:00:00Z\"}")
                .statusCode()).isEqualTo(404);
        assertThat(service.post("/log_streams/" + id + "/test" + wrong, "{}").statusCode()).isEqualTo(404);
        assertThat(service.get("/log_streams/" + id + "/deliveries" + wrong).statusCode()).isEqualTo(404);
        assertThat(service.send(HttpRequest.newBuilder(service.uri("/log_streams/" + id + wrong)).DELETE()).statusCode())
                .isEqualTo(404);
        assertThat(TestJson.read(service.get("/log_streams?organization_id=" + other).body()).get("data")).isEmpty();
        // without an organization, the installation's key lists every organization's streams
        assertThat(TestJson.read(service.get("/log_streams?limit=100").body()).get("data"))
                .extracting(s -> s.get("id").asText()).contains(id);

        JsonNode after = streams.get(id);
        assertThat(after.toString()).isEqualTo(before);
        assertThat(service.get("/log_streams/" + id + "?organization_id=" + owner).statusCode()).isEqualTo(200);
        assertThat(service.send(HttpRequest.newBuilder(service.uri("/log_streams/" + id + "?organization_id=" + owner))
                .DELETE()).statusCode()).isEqualTo(204);
        assertThat(service.get("/log_streams/" + id).statusCode()).isEqualTo(404);
    }

    @Test
    void urlsOnThisNetworkAreRefused() throws Exception {
        String org = service.createOrganization("SSRF Org");
        for (String url : List.of("http://example.com/hook", "https://127.0.0.1/hook", "https://localhost:8443/",
                "https://169.254.169.254/latest/meta-data", "https://10.1.2.3/", "https://[::1]/",
                "https://192.168.0.10/")) {
            HttpResponse<String> response = service.post("/log_streams", "{\"organization_id\":\"" + org
                    + "\",\"type\":\"GenericHttps\",\"config\":{\"url\":\"" + url + "\"}}");
            assertThat(response.statusCode()).as(url).isEqualTo(422);
            assertThat(TestJson.read(response.body()).at("/errors/0/field").asText()).isEqualTo("config.url");
        }
        assertThat(service.count("SELECT count(*) FROM log_stream WHERE organization_id = '" + org + "'")).isZero();
    }

    @Test
    void theConfigurationNamesTheFirstStreamAndHealthIgnoresDestinations() throws Exception {
        String org = service.createOrganization("Config View");
        JsonNode stream = streams.create(org, "Datadog", "{\"apiKey\":\"dd-key-config-000000\"}");
        JsonNode configuration = TestJson.read(service.get("/organizations/" + org + "/audit_log_configuration").body());
        assertThat(configuration.at("/log_stream/id").asText()).isEqualTo(stream.get("id").asText());
        assertThat(configuration.at("/log_stream/type").asText()).isEqualTo("Datadog");

        // the real Datadog is unreachable from here: the stream fails, the service stays healthy
        streams.send(org, "unreachable", 1);
        streams.awaitStream(stream.get("id").asText(), s -> !s.get("state").asText().equals("active"),
                Duration.ofSeconds(30));
        assertThat(RunningService.sendRaw(HttpRequest.newBuilder(service.managementUri("/observe/health/ready")).build())
                .statusCode()).isEqualTo(200);
    }

    @Test
    void replayDeliversAgainFromATime() throws Exception {
        try (SplunkHec splunk = SplunkHec.start("tok-replay")) {
            RunningService privateAllowed = RunningService.start(RunningService.newDataDir("replay"),
                    Map.of("auditstream.audit-trail.enabled", "true",
                            "auditstream.allow-private-destinations", "true", "auditstream.delivery.poll-interval", "100"));
            try (privateAllowed) {
                StreamApi api = new StreamApi(privateAllowed);
                String org = privateAllowed.createOrganization("Replay Org");
                String id = api.create(org, "Splunk", "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"tok-replay\"}")
                        .get("id").asText();
                api.send(org, "early", 3);
                // the stream's first event is its own creation, its last the replay (the organization's own trail)
                splunk.awaitEvents(4, Duration.ofSeconds(20));
                Thread.sleep(50);
                Instant middle = Instant.now();
                Thread.sleep(50);
                api.send(org, "late", 2);
                splunk.awaitEvents(6, Duration.ofSeconds(20));

                assertThat(privateAllowed.post("/log_streams/" + id + "/replay", "{\"from\":\"" + middle + "\"}")
                        .statusCode()).isEqualTo(202);
                List<JsonNode> events = splunk.awaitEvents(9, Duration.ofSeconds(20));
                assertThat(StreamApi.actions(events)).containsExactly("log_stream.created", "early.0", "early.1",
                        "early.2", "late.0", "late.1", "late.0", "late.1", "log_stream.replayed");
                assertThat(privateAllowed.post("/log_streams/" + id + "/replay", "{\"from\":\"yesterday\"}").statusCode())
                        .isEqualTo(422);
            }
        }
    }
}
