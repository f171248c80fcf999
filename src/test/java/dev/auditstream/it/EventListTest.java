package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.TestJson;

/** GET /audit_logs/events: one organization's events, filtered and paged, newest first. */
class EventListTest {

    private static RunningService service;
    private static String org;
    private static String otherOrg;

    @BeforeAll
    static void start() throws Exception {
        service = RunningService.start(RunningService.newDataDir("event-list"));
        org = service.createOrganization("Listed");
        otherOrg = service.createOrganization("Other");
        for (int day = 1; day <= 6; day++) {
            String action = day % 2 == 0 ? "user.signed_in" : "invoice.paid";
            String body = TestJson.event(org, action)
                    .replace("2024-01-15T10:30:00.000Z", "2024-01-0" + day + "T10:00:00.000Z")
                    .replace("\"user_456\"", "\"actor_" + (day % 3) + "\"")
                    .replace("\"user_123\"", "\"target_" + day + "\"");
            assertThat(service.post("/audit_logs/events", body).statusCode()).isEqualTo(200);
        }
        service.post("/audit_logs/events", TestJson.event(otherOrg, "user.signed_in"));
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    @Test
    void filtersByActionActorTargetAndTime() throws Exception {
        assertThat(days("")).containsExactly(6, 5, 4, 3, 2, 1);
        assertThat(days("&actions=user.signed_in")).containsExactly(6, 4, 2);
        assertThat(days("&actions=user.signed_in,invoice.paid&actor_ids=actor_1")).containsExactly(4, 1);
        assertThat(days("&target_ids=target_5,target_2")).containsExactly(5, 2);
        assertThat(days("&range_start=2024-01-02T00:00:00Z&range_end=2024-01-05T00:00:00Z")).containsExactly(4, 3, 2);
        assertThat(days("&actions=nothing.matches")).isEmpty();
    }

    @Test
    void pagesWithTheLastIdAsAfter() throws Exception {
        JsonNode first = list("&limit=4");
        assertThat(first.get("data")).hasSize(4);
        String after = first.at("/list_metadata/after").asText();
        assertThat(after).isEqualTo(first.at("/data/3/id").asText());
        JsonNode second = list("&limit=4&after=" + after);
        assertThat(second.get("data")).extracting(e -> e.get("occurred_at").asText().substring(8, 10))
                .containsExactly("02", "01");
        assertThat(second.at("/list_metadata/after").isNull()).isTrue();
    }

    @Test
    void anotherOrganizationsEventsNeverShowAndBadParametersAre422() throws Exception {
        JsonNode other = TestJson.read(service.get("/audit_logs/events?organization_id=" + otherOrg).body());
        assertThat(other.get("data")).hasSize(1);
        assertThat(service.get("/audit_logs/events").statusCode()).isEqualTo(422);
        assertThat(service.get("/audit_logs/events?organization_id=" + org + "&range_start=yesterday").statusCode())
                .isEqualTo(422);
        assertThat(service.get("/audit_logs/events?organization_id=" + org + "&limit=500").statusCode())
                .isEqualTo(422);
    }

    private static JsonNode list(String query) throws Exception {
        return TestJson.read(service.get("/audit_logs/events?organization_id=" + org + query).body());
    }

    private static List<Integer> days(String query) throws Exception {
        List<Integer> days = new ArrayList<>();
        list(query).get("data").forEach(e -> days.add(Integer.parseInt(e.get("occurred_at").asText().substring(8, 10))));
        return days;
    }
}
