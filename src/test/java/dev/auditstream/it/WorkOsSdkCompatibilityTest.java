package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.workos.WorkOS;
import com.workos.common.exceptions.NotFoundException;
import com.workos.common.exceptions.UnprocessableEntityException;
import com.workos.common.http.Page;
import com.workos.common.http.RequestOptions;
import com.workos.models.AuditLogAction;
import com.workos.models.AuditLogConfiguration;
import com.workos.models.AuditLogEvent;
import com.workos.models.AuditLogEventActor;
import com.workos.models.AuditLogEventContext;
import com.workos.models.AuditLogEventCreateResponse;
import com.workos.models.AuditLogSchema;
import com.workos.models.AuditLogSchemaActor;
import com.workos.models.AuditLogSchemaTarget;
import com.workos.models.AuditLogsRetention;
import com.workos.models.Organization;
import com.workos.types.AuditLogConfigurationState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.TestJson;

/** WorkOS's own Java SDK, pointed at AuditStream, must work unchanged; the database is checked after each call. */
class WorkOsSdkCompatibilityTest {

    private static RunningService service;
    private static WorkOS workos;

    @BeforeAll
    static void start() throws Exception {
        service = RunningService.start(RunningService.newDataDir("workos-sdk"));
        workos = WorkOS.builder().apiKey(RunningService.API_KEY).apiBaseUrl(service.baseUrl()).build();
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    @Test
    void organizationsAreCreatedReadAndListed() {
        Organization created = workos.getOrganizations().create("Acme Corp", null, null, null,
                Map.of("tier", "enterprise"), "acme-ext-1");
        assertThat(created.getId()).startsWith("org_");
        assertThat(created.getName()).isEqualTo("Acme Corp");
        assertThat(created.getExternalId()).isEqualTo("acme-ext-1");
        assertThat(created.getMetadata()).containsEntry("tier", "enterprise");

        assertThat(workos.getOrganizations().get(created.getId()).getName()).isEqualTo("Acme Corp");
        assertThat(workos.getOrganizations().getByExternalId("acme-ext-1").getId()).isEqualTo(created.getId());
        assertThat(workos.getOrganizations().list().autoPagingIterable())
                .extracting(Organization::getId).contains(created.getId());
        assertThatThrownBy(() -> workos.getOrganizations().get("org_missing"))
                .isInstanceOf(NotFoundException.class);
    }

    @Test
    void eventsAreStoredExactlyAsWorkOsShowsThem() throws Exception {
        String org = workos.getOrganizations().create("Events Inc").getId();
        AuditLogEvent event = new AuditLogEvent(
                "user.signed_in",
                OffsetDateTime.of(2024, 1, 15, 12, 30, 0, 123_456_789, ZoneOffset.ofHours(2)),
                new AuditLogEventActor("user_456", "user", "Jon Smith", Map.of("role", "admin")),
                List.of(new AuditLogEventActor("user_123", "user", null, null),
                        new AuditLogEventActor("team_9", "team", "Blue", Map.of("size", 4))),
                new AuditLogEventContext("192.168.1.1", "Chrome/91.0"),
                Map.of("reason", "sso", "attempt", 2, "mfa", true),
                null);

        AuditLogEventCreateResponse response = workos.getAuditLogs().createEvent(org, event);
        assertThat(response.getSuccess()).isTrue();

        try (Connection c = service.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("""
                     SELECT id, action, occurred_at = '2024-01-15T10:30:00.123Z'::timestamptz, actor_id, actor_name,
                            target_ids, target_types, event FROM audit_event WHERE organization_id = ?""")) {
            ps.setString(1, org);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                String id = rs.getString(1);
                assertThat(id).matches("[0-9A-HJKMNP-TV-Z]{26}");
                assertThat(rs.getString(2)).isEqualTo("user.signed_in");
                assertThat(rs.getBoolean(3)).isTrue();
                assertThat(rs.getString(4)).isEqualTo("user_456");
                assertThat(rs.getString(5)).isEqualTo("Jon Smith");
                assertThat((String[]) rs.getArray(6).getArray()).containsExactly("user_123", "team_9");
                assertThat((String[]) rs.getArray(7).getArray()).containsExactly("user", "team");
                String stored = rs.getString(8);
                assertThat(stored).startsWith("{\"id\":\"" + id + "\",\"action\":\"user.signed_in\",\"targets\":");
                JsonNode json = TestJson.read(stored);
                assertThat(json.get("occurred_at").asText()).isEqualTo("2024-01-15T10:30:00.123Z");
                assertThat(json.at("/actor/metadata/role").asText()).isEqualTo("admin");
                assertThat(json.at("/targets/1/name").asText()).isEqualTo("Blue");
                assertThat(json.at("/context/user_agent").asText()).isEqualTo("Chrome/91.0");
                assertThat(json.at("/metadata/attempt").asInt()).isEqualTo(2);
                assertThat(json.has("version")).isFalse();
                assertThat(rs.next()).isFalse();
            }
        }
    }

    /**
     * WorkOS's documented Create Event example (https://workos.com/docs/reference/audit-logs/event/create), as
     * written: the body of its curl example, and its Node example's event through this SDK. Both name version 1 of an
     * action that has no schema.
     */
    @Test
    void theDocumentedCreateEventExampleWorksAsWritten() throws Exception {
        String org = workos.getOrganizations().create("Documented Example").getId();
        String documented = """
                {
                  "organization_id": "org_01EHWNCE74X7JSDV0X3SZ3KJNY",
                  "event": {
                    "action": "user.signed_in",
                    "occurred_at": "2022-09-02T16:35:39.317Z",
                    "version": 1,
                    "actor": {
                      "type": "user",
                      "id": "user_TF4C5938",
                      "metadata": {
                        "role": "admin"
                      }
                    },
                    "targets": [
                      {
                        "type": "user",
                        "id": "user_98432YHF",
                        "name": "Jon Smith"
                      },
                      {
                        "type": "team",
                        "id": "team_J8YASKA2",
                        "metadata": {
                          "owner": "user_01GBTCQ2"
                        }
                      }
                    ],
                    "context": {
                      "location": "123.123.123.123",
                      "user_agent": "Chrome/104.0.0.0"
                    },
                    "metadata": {
                      "extra": "data"
                    }
                  }
                }""".replace("org_01EHWNCE74X7JSDV0X3SZ3KJNY", org);
        var response = service.post("/audit_logs/events", documented, "884793cd-bef4-46cf-8790-e3d4957a09ce");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("{\"success\":true}");

        AuditLogEvent event = new AuditLogEvent("user.signed_in", OffsetDateTime.parse("2022-09-02T16:35:39.317Z"),
                new AuditLogEventActor("user_TF4C5938", "user", "Jon Smith", Map.of("role", "admin")),
                List.of(new AuditLogEventActor("user_98432YHF", "user", "Jon Smith", null),
                        new AuditLogEventActor("team_J8YASKA2", "team", null, Map.of("owner", "user_01GBTCQ2"))),
                new AuditLogEventContext("1.1.1.1", "Chrome/104.0.0.0"),
                Map.of("extra", "data"),
                1L);
        assertThat(workos.getAuditLogs().createEvent(org, event,
                new RequestOptions(Map.of(), null, null, null, "884793cd-bef4-46cf-8790-ed49257a09c6", null))
                .getSuccess()).isTrue();

        assertThat(service.count("SELECT count(*) FROM audit_event WHERE organization_id = '" + org
                + "' AND event::jsonb @> '{\"version\": 1, \"targets\": [{\"id\": \"team_J8YASKA2\"}]}'")).isEqualTo(2);
    }

    @Test
    void versionsFollowWorkOs() throws Exception {
        String org = workos.getOrganizations().create("Versions Ltd").getId();
        // no schema: version 1 is the action's implicit version, absent (null) means it too
        for (Long version : new Long[] {null, 1L}) {
            workos.getAuditLogs().createEvent(org, versioned("report.viewed", "report", version));
        }
        assertVersionRefused(org, versioned("report.viewed", "report", 2L),
                "Action 'report.viewed' has no version 2; it has no schema, so its only version is 1.");

        workos.getAuditLogs().createSchema("report.shared", List.of(new AuditLogSchemaTarget("report", null)));
        workos.getAuditLogs().createSchema("report.shared", List.of(new AuditLogSchemaTarget("folder", null)));
        // absent: the latest version (2), which has no "report" target; version 1 has one
        assertThatThrownBy(() -> workos.getAuditLogs().createEvent(org, versioned("report.shared", "report", null)))
                .isInstanceOfSatisfying(UnprocessableEntityException.class,
                        e -> assertThat(e.errors).extracting(error -> error.field).containsExactly("event.targets[0].type"));
        workos.getAuditLogs().createEvent(org, versioned("report.shared", "report", 1L));
        workos.getAuditLogs().createEvent(org, versioned("report.shared", "folder", 2L));
        assertVersionRefused(org, versioned("report.shared", "report", 3L),
                "Action 'report.shared' has no version 3; its versions are 1, 2.");

        assertThat(service.count("SELECT count(*) FROM audit_event WHERE organization_id = '" + org + "'"))
                .isEqualTo(4);
    }

    private static AuditLogEvent versioned(String action, String targetType, Long version) {
        return new AuditLogEvent(action, OffsetDateTime.parse("2024-01-15T10:30:00Z"),
                new AuditLogEventActor("user_1", "user", null, null),
                List.of(new AuditLogEventActor("t_1", targetType, null, null)),
                new AuditLogEventContext("1.1.1.1", null), null, version);
    }

    private static void assertVersionRefused(String org, AuditLogEvent event, String message) {
        assertThatThrownBy(() -> workos.getAuditLogs().createEvent(org, event))
                .isInstanceOfSatisfying(UnprocessableEntityException.class, e -> {
                    assertThat(e.errors).extracting(error -> error.field).containsExactly("event.version");
                    assertThat(e.errors).extracting(error -> error.code).containsExactly("unknown_version");
                    assertThat(e.errors).extracting(error -> error.message).containsExactly(message);
                });
    }

    @Test
    void theSdksIdempotencyKeyStoresARetriedEventOnce() throws Exception {
        String org = workos.getOrganizations().create("Retry Ltd").getId();
        AuditLogEvent event = simpleEvent("invoice.paid", "invoice");
        RequestOptions sameKey = new RequestOptions(Map.of(), null, null, null, "sdk-key-1", null);

        workos.getAuditLogs().createEvent(org, event, sameKey);
        workos.getAuditLogs().createEvent(org, event, sameKey);

        assertThat(service.count("SELECT count(*) FROM audit_event WHERE organization_id = '" + org + "'"))
                .isEqualTo(1);
    }

    @Test
    void schemasAreVersionedListedAndEnforced() throws Exception {
        String org = workos.getOrganizations().create("Schema Co").getId();
        AuditLogSchema v1 = workos.getAuditLogs().createSchema("document.updated",
                List.of(new AuditLogSchemaTarget("document", Map.of("type", "object",
                        "properties", Map.of("pages", Map.of("type", "number"))))),
                new AuditLogSchemaActor(Map.of("type", "object", "properties", Map.of("role", Map.of("type", "string")))),
                Map.of("type", "object", "properties", Map.of("reason", Map.of("type", "string")),
                        "required", List.of("reason")));
        assertThat(v1.getVersion()).isEqualTo(1);
        AuditLogSchema v2 = workos.getAuditLogs().createSchema("document.updated",
                List.of(new AuditLogSchemaTarget("document", null), new AuditLogSchemaTarget("folder", null)));
        assertThat(v2.getVersion()).isEqualTo(2);

        Page<AuditLogSchema> schemas = workos.getAuditLogs().listActionSchemas("document.updated");
        assertThat(schemas.data).extracting(AuditLogSchema::getVersion).containsExactly(2L, 1L);
        Page<AuditLogAction> actions = workos.getAuditLogs().listActions();
        assertThat(actions.data).extracting(AuditLogAction::getName).contains("document.updated");
        assertThat(actions.data).filteredOn(a -> a.getName().equals("document.updated"))
                .extracting(a -> a.getSchema().getVersion()).containsExactly(2L);
        assertThat(service.count("SELECT count(*) FROM audit_action_schema WHERE action = 'document.updated'"))
                .isEqualTo(2);

        AuditLogEvent folder = new AuditLogEvent("document.updated", OffsetDateTime.now(),
                new AuditLogEventActor("u1", "user", null, null),
                List.of(new AuditLogEventActor("f1", "folder", null, null)),
                new AuditLogEventContext("10.0.0.1", null), null, null);
        workos.getAuditLogs().createEvent(org, folder);

        AuditLogEvent v1Violation = new AuditLogEvent("document.updated", OffsetDateTime.now(),
                new AuditLogEventActor("u1", "user", null, Map.of("role", 7)),
                List.of(new AuditLogEventActor("d1", "document", null, Map.of("pages", "many"))),
                new AuditLogEventContext("10.0.0.1", null), null, 1L);
        assertThatThrownBy(() -> workos.getAuditLogs().createEvent(org, v1Violation))
                .isInstanceOfSatisfying(UnprocessableEntityException.class, e -> assertThat(e.errors)
                        .extracting(error -> error.field)
                        .containsExactlyInAnyOrder("event.actor.metadata.role", "event.targets[0].metadata.pages",
                                "event.metadata.reason"));
        assertThat(service.count("SELECT count(*) FROM audit_event WHERE organization_id = '" + org + "'"))
                .isEqualTo(1);
    }

    @Test
    void retentionIsReadAndSet() throws Exception {
        String org = workos.getOrganizations().create("Keep Inc").getId();
        assertThat(workos.getAuditLogs().getAuditLogsRetention(org).getRetentionPeriodInDays()).isEqualTo(365L);

        AuditLogsRetention updated = workos.getAuditLogs().updateAuditLogsRetention(org, 30);
        assertThat(updated.getRetentionPeriodInDays()).isEqualTo(30L);
        assertThat(service.count("SELECT retention_period_in_days FROM organization WHERE id = '" + org + "'"))
                .isEqualTo(30);

        assertThatThrownBy(() -> workos.getAuditLogs().updateAuditLogsRetention(org, 90))
                .isInstanceOf(UnprocessableEntityException.class);
        assertThat(service.count("SELECT retention_period_in_days FROM organization WHERE id = '" + org + "'"))
                .isEqualTo(30);

        AuditLogConfiguration configuration = workos.getOrganizations().getAuditLogConfiguration(org);
        assertThat(configuration.getOrganizationId()).isEqualTo(org);
        assertThat(configuration.getRetentionPeriodInDays()).isEqualTo(30L);
        assertThat(configuration.getState()).isEqualTo(AuditLogConfigurationState.Active);
        assertThat(configuration.getLogStream()).isNull();
    }

    private static AuditLogEvent simpleEvent(String action, String targetType) {
        return new AuditLogEvent(action, OffsetDateTime.parse("2024-01-15T10:30:00Z"),
                new AuditLogEventActor("user_1", "user", null, null),
                List.of(new AuditLogEventActor("t_1", targetType, null, null)),
                new AuditLogEventContext("1.1.1.1", null), null, null);
    }
}
