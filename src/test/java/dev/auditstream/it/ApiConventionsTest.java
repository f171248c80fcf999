package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.TestJson;

/** What every endpoint shares: request ids, list pagination, error shape, and no request header echoed back. */
class ApiConventionsTest {

    private static RunningService service;

    @BeforeAll
    static void start() throws Exception {
        service = RunningService.start(RunningService.newDataDir("conventions"));
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    @Test
    void everyResponseCarriesARequestIdAndNoRequestHeader() throws Exception {
        HttpResponse<String> given = service.send(HttpRequest.newBuilder(service.uri("/organizations"))
                .header("X-Request-ID", "trace-123").header("X-Secret-Thing", "do-not-echo").GET());
        assertThat(given.headers().firstValue("X-Request-ID")).hasValue("trace-123");
        assertThat(given.headers().map()).doesNotContainKeys("authorization", "x-secret-thing", "Authorization");
        // served over plain http as far as clients are told: no HSTS
        assertThat(given.headers().firstValue("Strict-Transport-Security")).isEmpty();
        assertThat(given.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");

        HttpResponse<String> generated = service.get("/organizations/org_nope");
        assertThat(generated.statusCode()).isEqualTo(404);
        assertThat(generated.headers().firstValue("X-Request-ID").orElseThrow()).matches("[0-9a-f-]{36}");
        assertThat(generated.body()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void listsPageForwardAndBackWithCursors() throws Exception {
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            created.add(service.createOrganization("Paged " + i));
        }
        // newest first by default
        JsonNode first = TestJson.read(service.get("/organizations?limit=3").body());
        assertThat(ids(first)).containsExactly(created.get(6), created.get(5), created.get(4));
        assertThat(first.at("/list_metadata/before").isNull()).isTrue();
        String after = first.at("/list_metadata/after").asText();
        assertThat(after).isEqualTo(created.get(4));

        JsonNode second = TestJson.read(service.get("/organizations?limit=3&after=" + after).body());
        assertThat(ids(second)).containsExactly(created.get(3), created.get(2), created.get(1));
        assertThat(second.at("/list_metadata/before").asText()).isEqualTo(created.get(3));

        JsonNode back = TestJson.read(service.get("/organizations?limit=3&before=" + created.get(3)).body());
        assertThat(ids(back)).containsExactly(created.get(6), created.get(5), created.get(4));
        assertThat(back.at("/list_metadata/before").isNull()).isTrue();

        JsonNode ascending = TestJson.read(service.get("/organizations?limit=2&order=asc&after=" + created.get(1)).body());
        assertThat(ids(ascending)).containsExactly(created.get(2), created.get(3));

        JsonNode last = TestJson.read(service.get("/organizations?limit=100&after=" + created.get(1)).body());
        // organizations made by other tests of this class may be older still
        assertThat(ids(last)).startsWith(created.get(0)).doesNotContainAnyElementsOf(created.subList(1, 7));
        assertThat(last.at("/list_metadata/after").isNull()).isTrue();
    }

    @Test
    void badListParametersAre422() throws Exception {
        for (String query : List.of("limit=0", "limit=101", "limit=ten", "order=sideways")) {
            HttpResponse<String> response = service.get("/organizations?" + query);
            assertThat(response.statusCode()).as(query).isEqualTo(422);
            assertThat(TestJson.read(response.body()).get("code").asText()).isEqualTo("validation_failed");
        }
    }

    @Test
    void organizationRequestsAreValidated() throws Exception {
        HttpResponse<String> response = service.post("/organizations", "{\"name\":\"\",\"metadata\":{\"a\":1},\"colour\":\"red\"}");
        assertThat(response.statusCode()).isEqualTo(422);
        assertThat(TestJson.read(response.body()).get("errors")).extracting(e -> e.get("field").asText())
                .containsExactlyInAnyOrder("name", "metadata.a", "colour");
        assertThat(service.count("SELECT count(*) FROM organization WHERE name = ''")).isZero();

        service.post("/organizations", "{\"name\":\"One\",\"external_id\":\"dup-ext\"}");
        HttpResponse<String> duplicate = service.post("/organizations", "{\"name\":\"Two\",\"external_id\":\"dup-ext\"}");
        assertThat(duplicate.statusCode()).isEqualTo(409);
        assertThat(service.count("SELECT count(*) FROM organization WHERE external_id = 'dup-ext'")).isEqualTo(1);
    }

    @Test
    void schemaRequestsAreValidated() throws Exception {
        HttpResponse<String> noTargets = service.post("/audit_logs/actions/a.b/schemas", "{\"targets\":[]}");
        assertThat(noTargets.statusCode()).isEqualTo(422);
        HttpResponse<String> badSchema = service.post("/audit_logs/actions/a.b/schemas",
                "{\"targets\":[{\"type\":\"user\",\"metadata\":{\"type\":\"objekt\"}}]}");
        assertThat(badSchema.statusCode()).isEqualTo(422);
        assertThat(TestJson.read(badSchema.body()).at("/errors/0/field").asText()).startsWith("targets[0].metadata");
        assertThat(service.count("SELECT count(*) FROM audit_action_schema WHERE action = 'a.b'")).isZero();
        assertThat(service.get("/audit_logs/actions/a.b/schemas").statusCode()).isEqualTo(404);
    }

    private static List<String> ids(JsonNode list) {
        List<String> ids = new ArrayList<>();
        list.get("data").forEach(o -> ids.add(o.get("id").asText()));
        return ids;
    }
}
