package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.TestJson;

/**
 * Action schemas are written by API key holders and run against every event of their action: they never make the
 * service fetch anything, and a pattern that backtracks without end cannot hold a request thread.
 */
class ActionSchemaSafetyTest {

    private static final String SCHEMA_DOCUMENT = "{\"type\":\"object\",\"properties\":{\"role\":{\"type\":\"string\"}}}";

    private static RunningService service;
    private static HttpServer documents;
    private static final AtomicInteger fetched = new AtomicInteger();
    private static String url;

    @BeforeAll
    static void start() throws Exception {
        service = RunningService.start(RunningService.newDataDir("schema-safety"));
        // what a schema would load if references were followed: it answers a real schema and counts every request
        documents = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        documents.createContext("/", exchange -> {
            fetched.incrementAndGet();
            byte[] body = SCHEMA_DOCUMENT.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/schema+json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        documents.start();
        url = "http://127.0.0.1:" + documents.getAddress().getPort() + "/schema.json";
    }

    @AfterAll
    static void stop() {
        documents.stop(0);
        service.close();
    }

    @Test
    void referencesOutsideTheSchemaAreRefusedWhenTheSchemaIsCreated() throws Exception {
        List<String> refused = List.of(
                "{\"$ref\":\"" + url + "\"}",
                "{\"$ref\":\"" + url.replace("http:", "https:") + "\"}",
                "{\"$ref\":\"file:///etc/passwd\"}",
                "{\"$ref\":\"classpath:draft/2020-12/schema\"}",
                "{\"$ref\":\"other.json#/definitions/a\"}",
                "{\"properties\":{\"role\":{\"$dynamicRef\":\"" + url + "#meta\"}}}",
                "{\"allOf\":[{\"$ref\":\"" + url + "\"}]}");
        for (String metadata : refused) {
            HttpResponse<String> response = service.post("/audit_logs/actions/remote.ref/schemas",
                    "{\"targets\":[{\"type\":\"user\"}],\"metadata\":" + metadata + "}");
            assertThat(response.statusCode()).as(metadata).isEqualTo(422);
            JsonNode error = TestJson.read(response.body()).get("errors").get(0);
            assertThat(error.get("code").asText()).as(metadata).isEqualTo("remote_reference");
            assertThat(error.get("field").asText()).as(metadata).startsWith("metadata.");
        }
        assertRefused("{\"$schema\":\"" + url + "\",\"type\":\"object\"}", "metadata.$schema", "unsupported_dialect");
        assertRefused("{\"$id\":\"" + url + "\",\"type\":\"object\"}", "metadata.$id", "unsupported_keyword");
        assertThat(service.count("SELECT count(*) FROM audit_action_schema WHERE action = 'remote.ref'")).isZero();
        assertThat(fetched).hasValue(0);
    }

    @Test
    void referencesWithinTheSchemaWork() throws Exception {
        String org = service.createOrganization("Local Refs");
        HttpResponse<String> created = service.post("/audit_logs/actions/local.ref/schemas", "{\"targets\":[{\"type\":"
                + "\"user\"}],\"metadata\":{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
                + "\"$defs\":{\"role\":{\"enum\":[\"admin\",\"member\"]}},"
                + "\"type\":\"object\",\"properties\":{\"role\":{\"$ref\":\"#/$defs/role\"}}}}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);

        assertThat(service.post("/audit_logs/events", withMetadata(org, "local.ref", "{\"role\":\"admin\"}"))
                .statusCode()).isEqualTo(200);
        HttpResponse<String> refused = service.post("/audit_logs/events",
                withMetadata(org, "local.ref", "{\"role\":\"owner\"}"));
        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(TestJson.read(refused.body()).at("/errors/0/field").asText()).isEqualTo("event.metadata.role");
    }

    /** A schema stored before references were checked: validating with it still fetches nothing. */
    @Test
    void validationNeverLoadsARemoteDocument() throws Exception {
        String org = service.createOrganization("Stored Remote Ref");
        service.execute("INSERT INTO audit_action (name) VALUES ('stored.remote')");
        service.execute("INSERT INTO audit_action_schema (action, version, definition) VALUES ('stored.remote', 1, "
                + "'{\"targets\":[{\"type\":\"user\"}],\"metadata\":{\"$ref\":\"" + url + "\"}}')");

        HttpResponse<String> response = service.post("/audit_logs/events",
                withMetadata(org, "stored.remote", "{\"role\":\"admin\"}"));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
        assertThat(TestJson.read(response.body()).at("/errors/0/code").asText()).isEqualTo("invalid_schema");
        assertThat(fetched).hasValue(0);
        assertThat(service.count("SELECT count(*) FROM audit_event WHERE organization_id = '" + org + "'")).isZero();
    }

    @Test
    void aPatternThatBacktracksWithoutEndRefusesTheEventInsteadOfHoldingTheRequest() throws Exception {
        String org = service.createOrganization("Backtracking");
        HttpResponse<String> created = service.post("/audit_logs/actions/pattern.check/schemas", "{\"targets\":[{\"type\":"
                + "\"user\"}],\"metadata\":{\"type\":\"object\",\"properties\":{\"code\":{\"pattern\":\"^(.*a){12}$\"}}}}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);

        assertThat(service.post("/audit_logs/events", withMetadata(org, "pattern.check", "{\"code\":\"" + "a".repeat(12)
                + "\"}")).statusCode()).isEqualTo(200);
        // java.util.regex tries every way to split 60 a's into 12 groups before the "!" fails the match
        HttpResponse<String> response = service.post("/audit_logs/events",
                withMetadata(org, "pattern.check", "{\"code\":\"" + "a".repeat(60) + "!\"}"));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
        assertThat(TestJson.read(response.body()).at("/errors/0/field").asText()).isEqualTo("event.metadata.code");
    }

    @Test
    void patternsAndStringsPostgresCannotStoreAreRefusedWhenTheSchemaIsCreated() throws Exception {
        assertRefused("{\"properties\":{\"code\":{\"pattern\":\"(unclosed\"}}}", "metadata.properties.code.pattern",
                "invalid_pattern");
        assertRefused("{\"patternProperties\":{\"[z-a]\":{}}}", "metadata.patternProperties.[z-a]", "invalid_pattern");
        assertRefused("{\"description\":\"nul \\u0000\"}", "metadata.description", "invalid_character");
    }

    private static void assertRefused(String metadata, String field, String code) throws Exception {
        HttpResponse<String> response = service.post("/audit_logs/actions/refused.schema/schemas",
                "{\"targets\":[{\"type\":\"user\"}],\"metadata\":" + metadata + "}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
        assertThat(TestJson.read(response.body()).get("errors")).extracting(e -> e.get("field").asText() + " "
                + e.get("code").asText()).contains(field + " " + code);
    }

    private static String withMetadata(String org, String action, String metadata) {
        String event = TestJson.event(org, action);
        return event.substring(0, event.length() - 2) + ",\"metadata\":" + metadata + "}}";
    }
}
