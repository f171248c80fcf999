package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.TestJson;

/** Every rule of POST /audit_logs/events: the exact status and error body, and a refused request stores nothing. */
class EventValidationTest {

    private static RunningService service;
    private static String org;

    @BeforeAll
    static void start() throws Exception {
        service = RunningService.start(RunningService.newDataDir("validation"),
                Map.of("auditstream.http.max-body-bytes", "65536"));
        org = service.createOrganization("Validation Org");
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    /** An event body with one member of {@code event} replaced (JSON text) or removed (null). */
    private static String eventWith(String member, String json) {
        JsonNode body = TestJson.read(TestJson.event("ORG", "user.signed_in"));
        ObjectNode event = (ObjectNode) body.get("event");
        if (json == null) {
            event.remove(member);
        } else {
            event.set(member, TestJson.read(json));
        }
        return body.toString();
    }

    private static String metadataWith(String json) {
        return eventWith("metadata", json);
    }

    /** The default event body with one JSON text replaced, e.g. {@code "Jon Smith"} by {@code "Jon\u0000"}. */
    private static String replaced(String json, String by) {
        String body = TestJson.event("ORG", "user.signed_in");
        if (!body.contains(json)) {
            throw new IllegalArgumentException(json);
        }
        return body.replace(json, by);
    }

    /** Strings PostgreSQL cannot store, in every string member of an event: 422 with the member's path. */
    static Stream<Arguments> unstorableStrings() {
        String nul = "\\u0000";
        return Stream.of(
                Arguments.of("NUL in organization_id", replaced("\"ORG\"", "\"ORG" + nul + "\""), "organization_id"),
                Arguments.of("NUL in action", replaced("\"user.signed_in\"", "\"user." + nul + "\""), "event.action"),
                Arguments.of("NUL in actor.id", replaced("\"user_456\"", "\"user" + nul + "\""), "event.actor.id"),
                Arguments.of("NUL in actor.type", replaced("\"type\":\"user\",\"name\"", "\"type\":\"u" + nul + "\",\"name\""),
                        "event.actor.type"),
                Arguments.of("NUL in actor.name", replaced("\"Jon Smith\"", "\"Jon" + nul + "Smith\""), "event.actor.name"),
                Arguments.of("NUL in a target id", replaced("\"user_123\"", "\"" + nul + "\""), "event.targets[0].id"),
                Arguments.of("NUL in a target type", replaced("\"id\":\"user_123\",\"type\":\"user\"",
                        "\"id\":\"user_123\",\"type\":\"user" + nul + "\""), "event.targets[0].type"),
                Arguments.of("NUL in a target name", replaced("\"type\":\"user\"}]", "\"type\":\"user\",\"name\":\"" + nul + "\"}]"),
                        "event.targets[0].name"),
                Arguments.of("NUL in context.location", replaced("\"192.168.1.1\"", "\"192.168.1.1" + nul + "\""),
                        "event.context.location"),
                Arguments.of("NUL in context.user_agent", replaced("\"Chrome/91.0\"", "\"" + nul + "Chrome\""),
                        "event.context.user_agent"),
                Arguments.of("NUL in a metadata value", metadataWith("{\"note\":\"a" + nul + "\"}"), "event.metadata.note"),
                Arguments.of("NUL in actor metadata", eventWith("actor",
                        "{\"id\":\"u\",\"type\":\"user\",\"metadata\":{\"role\":\"" + nul + "\"}}"), "event.actor.metadata.role"),
                Arguments.of("NUL in target metadata", eventWith("targets",
                        "[{\"id\":\"t\",\"type\":\"team\",\"metadata\":{\"owner\":\"x" + nul + "\"}}]"),
                        "event.targets[0].metadata.owner"),
                Arguments.of("lone high surrogate in actor.name", replaced("\"Jon Smith\"", "\"Jon \\ud83d Smith\""),
                        "event.actor.name"),
                Arguments.of("lone high surrogate at the end of a metadata value", replaced("\"Chrome/91.0\"}",
                        "\"Chrome/91.0\"},\"metadata\":{\"note\":\"x\\ud83d\"}"),
                        "event.metadata.note"),
                Arguments.of("lone low surrogate in a target type", replaced("\"id\":\"user_123\",\"type\":\"user\"",
                        "\"id\":\"user_123\",\"type\":\"\\ude00user\""), "event.targets[0].type"),
                Arguments.of("reversed surrogate pair in action", replaced("\"user.signed_in\"", "\"a\\ude00\\ud83d\""),
                        "event.action"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unstorableStrings")
    void stringsPostgresCannotStoreAreRefusedWithTheirField(String name, String body, String field) throws Exception {
        assertRefusedWithNothingStored(body, List.of(tuple(field, "invalid_character")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidEvents")
    void invalidEventIsRefusedWith422AndNothingIsStored(String name, String body, List<Tuple> expected)
            throws Exception {
        assertRefusedWithNothingStored(body, expected);
    }

    @Test
    void surrogatePairsAndTheFirstAndLastYearsAreStored() throws Exception {
        String body = replaced("\"Jon Smith\"", "\"Jon \\ud83d\\ude00\"").replace("user.signed_in", "edge.values")
                .replace("2024-01-15T10:30:00.000Z", "0001-01-01T00:00:00.000Z");
        assertThat(service.post("/audit_logs/events", body.replace("ORG", org)).statusCode()).isEqualTo(200);
        assertThat(TestJson.read(service.storedEvent("edge.values")).at("/actor/name").asText()).isEqualTo("Jon \uD83D\uDE00");
        String last = body.replace("edge.values", "edge.last").replace("0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z");
        assertThat(service.post("/audit_logs/events", last.replace("ORG", org)).statusCode()).isEqualTo(200);
    }

    static Stream<Arguments> invalidEvents() {
        String manyKeys = "{" + String.join(",", IntStream.range(0, 51)
                .mapToObj(i -> "\"k" + i + "\":" + i).toList()) + "}";
        return Stream.of(
                Arguments.of("organization_id missing",
                        "{\"event\":" + TestJson.read(TestJson.event("x", "a.b")).get("event") + "}",
                        List.of(tuple("organization_id", "required"))),
                Arguments.of("event missing", "{\"organization_id\":\"ORG\"}", List.of(tuple("event", "required"))),
                Arguments.of("event not an object", "{\"organization_id\":\"ORG\",\"event\":[]}",
                        List.of(tuple("event", "invalid_type"))),
                Arguments.of("event empty", "{\"organization_id\":\"ORG\",\"event\":{}}",
                        List.of(tuple("event.action", "required"), tuple("event.targets", "required"),
                                tuple("event.actor", "required"), tuple("event.context", "required"),
                                tuple("event.occurred_at", "required"))),
                Arguments.of("action not a string", eventWith("action", "5"),
                        List.of(tuple("event.action", "invalid_type"))),
                Arguments.of("action empty", eventWith("action", "\"  \""),
                        List.of(tuple("event.action", "required"))),
                Arguments.of("occurred_at not ISO", eventWith("occurred_at", "\"2024-01-15 10:30:00\""),
                        List.of(tuple("event.occurred_at", "invalid_date"))),
                Arguments.of("occurred_at impossible date", eventWith("occurred_at", "\"2024-13-45T10:30:00Z\""),
                        List.of(tuple("event.occurred_at", "invalid_date"))),
                Arguments.of("occurred_at without offset", eventWith("occurred_at", "\"2024-01-15T10:30:00\""),
                        List.of(tuple("event.occurred_at", "invalid_date"))),
                Arguments.of("occurred_at a number", eventWith("occurred_at", "1705314600000"),
                        List.of(tuple("event.occurred_at", "invalid_type"))),
                Arguments.of("occurred_at in year 99999", eventWith("occurred_at", "\"+99999-01-01T00:00:00.000Z\""),
                        List.of(tuple("event.occurred_at", "out_of_range"))),
                Arguments.of("occurred_at in year 0", eventWith("occurred_at", "\"0000-12-31T23:59:59.999Z\""),
                        List.of(tuple("event.occurred_at", "out_of_range"))),
                Arguments.of("occurred_at before year 1 in UTC", eventWith("occurred_at", "\"0001-01-01T00:30:00+01:00\""),
                        List.of(tuple("event.occurred_at", "out_of_range"))),
                Arguments.of("occurred_at after year 9999 in UTC", eventWith("occurred_at", "\"9999-12-31T23:30:00-01:00\""),
                        List.of(tuple("event.occurred_at", "out_of_range"))),
                Arguments.of("occurred_at far in the past", eventWith("occurred_at", "\"-4714-11-24T00:00:00Z\""),
                        List.of(tuple("event.occurred_at", "out_of_range"))),
                Arguments.of("actor not an object", eventWith("actor", "\"user_1\""),
                        List.of(tuple("event.actor", "invalid_type"))),
                Arguments.of("actor without id and type", eventWith("actor", "{\"name\":\"Jon\"}"),
                        List.of(tuple("event.actor.id", "required"), tuple("event.actor.type", "required"))),
                Arguments.of("actor name not a string", eventWith("actor", "{\"id\":\"u\",\"type\":\"user\",\"name\":3}"),
                        List.of(tuple("event.actor.name", "invalid_type"))),
                Arguments.of("targets not an array", eventWith("targets", "{\"id\":\"u\"}"),
                        List.of(tuple("event.targets", "invalid_type"))),
                Arguments.of("targets empty", eventWith("targets", "[]"),
                        List.of(tuple("event.targets", "min_items"))),
                Arguments.of("target without type", eventWith("targets", "[{\"id\":\"t1\",\"type\":\"user\"},{\"id\":\"t2\"}]"),
                        List.of(tuple("event.targets[1].type", "required"))),
                Arguments.of("context without location", eventWith("context", "{\"user_agent\":\"x\"}"),
                        List.of(tuple("event.context.location", "required"))),
                Arguments.of("context not an object", eventWith("context", "\"here\""),
                        List.of(tuple("event.context", "invalid_type"))),
                Arguments.of("metadata not an object", metadataWith("[1,2]"),
                        List.of(tuple("event.metadata", "invalid_type"))),
                Arguments.of("metadata over 50 keys", metadataWith(manyKeys),
                        List.of(tuple("event.metadata", "too_many_keys"))),
                Arguments.of("metadata key with a space", metadataWith("{\"bad key\":1}"),
                        List.of(tuple("event.metadata.bad key", "invalid_key"))),
                Arguments.of("metadata key over 40 characters", metadataWith("{\"" + "k".repeat(41) + "\":1}"),
                        List.of(tuple("event.metadata." + "k".repeat(41), "invalid_key"))),
                Arguments.of("metadata value over 500 characters", metadataWith("{\"note\":\"" + "x".repeat(501) + "\"}"),
                        List.of(tuple("event.metadata.note", "too_long"))),
                Arguments.of("metadata value an object", metadataWith("{\"nested\":{\"a\":1}}"),
                        List.of(tuple("event.metadata.nested", "invalid_type"))),
                Arguments.of("metadata value an array", metadataWith("{\"list\":[1]}"),
                        List.of(tuple("event.metadata.list", "invalid_type"))),
                Arguments.of("actor metadata invalid", eventWith("actor",
                                "{\"id\":\"u\",\"type\":\"user\",\"metadata\":{\"deep\":{}}}"),
                        List.of(tuple("event.actor.metadata.deep", "invalid_type"))),
                Arguments.of("version a string", eventWith("version", "\"1\""),
                        List.of(tuple("event.version", "invalid_type"))),
                Arguments.of("version zero", eventWith("version", "0"),
                        List.of(tuple("event.version", "invalid_type"))),
                Arguments.of("misspelt member", eventWith("occured_at", "\"2024-01-15T10:30:00Z\""),
                        List.of(tuple("event.occured_at", "unknown_field"))));
    }

    private static void assertRefusedWithNothingStored(String body, List<Tuple> expected) throws Exception {
        long before = service.count("SELECT count(*) FROM audit_event");
        HttpResponse<String> response = service.post("/audit_logs/events", body.replace("ORG", org));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
        JsonNode error = TestJson.read(response.body());
        assertThat(error.get("message").asText()).isEqualTo("Validation failed.");
        assertThat(error.get("code").asText()).isEqualTo("validation_failed");
        assertThat(error.get("errors")).extracting(e -> tuple(e.get("field").asText(), e.get("code").asText()))
                .containsExactlyInAnyOrderElementsOf(expected);
        assertThat(service.count("SELECT count(*) FROM audit_event")).isEqualTo(before);
    }

    @Test
    void oneRuleGivesExactlyThisBody() throws Exception {
        HttpResponse<String> response = service.post("/audit_logs/events",
                eventWith("targets", "[]").replace("ORG", org));
        assertThat(response.statusCode()).isEqualTo(422);
        assertThat(response.body()).isEqualTo("{\"message\":\"Validation failed.\",\"code\":\"validation_failed\","
                + "\"errors\":[{\"field\":\"event.targets\",\"code\":\"min_items\","
                + "\"message\":\"event.targets needs at least one target.\"}]}");
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    }

    @Test
    void malformedJsonIs400() throws Exception {
        assertRefused(service.post("/audit_logs/events", "{\"organization_id\": \"" + org + "\", "), 400,
                "invalid_json");
        assertRefused(service.post("/audit_logs/events", "[1,2,3]"), 400, "invalid_json");
        assertRefused(service.post("/audit_logs/events", ""), 400, "invalid_json");
        assertRefused(service.post("/audit_logs/events", "{\"organization_id\":\"a\",\"organization_id\":\"b\"}"), 400,
                "invalid_json");
    }

    @Test
    void unknownOrganizationIs404() throws Exception {
        HttpResponse<String> response = service.post("/audit_logs/events", TestJson.event("org_unknown", "a.b"));
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.body()).isEqualTo(
                "{\"message\":\"Organization not found: 'org_unknown'.\",\"code\":\"entity_not_found\"}");
        assertThat(service.count("SELECT count(*) FROM audit_event WHERE organization_id = 'org_unknown'")).isZero();
    }

    @Test
    void bodyOverTheLimitIs413() throws Exception {
        long before = service.count("SELECT count(*) FROM audit_event");
        String padded = TestJson.event(org, "a.b").replace("\"Chrome/91.0\"", "\"" + "x".repeat(70_000) + "\"");
        assertRefused(service.post("/audit_logs/events", padded), 413, "payload_too_large");
        assertThat(service.count("SELECT count(*) FROM audit_event")).isEqualTo(before);
    }

    @Test
    void requestsWithoutAValidKeyAre401() throws Exception {
        HttpResponse<String> none = RunningService.sendRaw(HttpRequest.newBuilder(service.uri("/audit_logs/events"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(TestJson.event(org, "a.b"))).build());
        assertRefused(none, 401, "unauthorized");
        HttpResponse<String> wrong = RunningService.sendRaw(HttpRequest.newBuilder(service.uri("/organizations"))
                .header("Authorization", "Bearer sk_test_wrong").GET().build());
        assertRefused(wrong, 401, "unauthorized");
        assertThat(service.count("SELECT count(*) FROM audit_event WHERE organization_id = '" + org + "' "
                + "AND action = 'a.b'")).isZero();
    }

    @Test
    void nonJsonContentTypeIs415() throws Exception {
        HttpResponse<String> response = RunningService.sendRaw(HttpRequest.newBuilder(service.uri("/audit_logs/events"))
                .header("Authorization", "Bearer " + RunningService.API_KEY)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build());
        assertRefused(response, 415, "unsupported_media_type");
    }

    @Test
    void nullMembersCountAsAbsent() throws Exception {
        String body = TestJson.event(org, "null.members").replace("\"name\":\"Jon Smith\"", "\"name\":null")
                .replace("\"user_agent\":\"Chrome/91.0\"", "\"user_agent\":null");
        body = body.substring(0, body.length() - 2) + ",\"metadata\":{\"kept\":\"yes\",\"dropped\":null},\"version\":null}}";
        HttpResponse<String> response = service.post("/audit_logs/events", body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("{\"success\":true}");
        JsonNode stored = TestJson.read(service.storedEvent("null.members"));
        assertThat(stored.at("/actor").has("name")).isFalse();
        assertThat(stored.at("/context").has("user_agent")).isFalse();
        assertThat(stored.get("metadata").toString()).isEqualTo("{\"kept\":\"yes\"}");
        assertThat(stored.has("version")).isFalse();
    }


    private static void assertRefused(HttpResponse<String> response, int status, String code) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        JsonNode body = TestJson.read(response.body());
        assertThat(body.get("code").asText()).isEqualTo(code);
        assertThat(body.get("message").asText()).isNotBlank();
        assertThat(response.headers().firstValue("X-Request-ID")).isPresent();
    }
}
