package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import dev.auditstream.support.ChildService;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.TestJson;

/** The embedded PostgreSQL belongs to one instance at a time, which uses it as a role that is no superuser. */
class EmbeddedDatabaseTest {

    @Test
    void aSecondInstanceOnTheSameDataDirectoryStopsAndTheFirstKeepsItsDatabase() throws Exception {
        Path dataDir = RunningService.newDataDir("two-instances");
        try (RunningService first = RunningService.start(dataDir)) {
            String org = first.createOrganization("First Instance");

            assertThatThrownBy(() -> ChildService.start(dataDir, "second", Map.of()))
                    .hasMessageContaining("the service exited");
            assertThat(Files.readString(dataDir.resolve("second.log")))
                    .contains("is in use by another AuditStream instance (process " + ProcessHandle.current().pid() + ")");

            assertThat(first.post("/audit_logs/events", TestJson.event(org, "still.here")).statusCode()).isEqualTo(200);
            assertThat(first.count("SELECT count(*) FROM audit_event WHERE action = 'still.here'")).isEqualTo(1);
        }
    }

    @Test
    void theServiceConnectsAsARoleThatIsNoSuperuserAndOwnsOnlyItsSchema() throws Exception {
        try (RunningService service = RunningService.start(RunningService.newDataDir("least-privilege"))) {
            try (Connection c = service.dataSource().getConnection(); Statement s = c.createStatement()) {
                var rs = s.executeQuery("SELECT current_user, rolsuper, rolcreaterole, rolcreatedb, current_schema "
                        + "FROM pg_roles WHERE rolname = current_user");
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("auditstream");
                assertThat(rs.getBoolean(2)).as("superuser").isFalse();
                assertThat(rs.getBoolean(3)).as("create role").isFalse();
                assertThat(rs.getBoolean(4)).as("create database").isFalse();
                assertThat(rs.getString(5)).isEqualTo("auditstream");
                assertThatThrownBy(() -> s.execute("COPY (SELECT 1) TO PROGRAM 'true'"))
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
                assertThatThrownBy(() -> s.execute("CREATE TABLE public.elsewhere (x int)"))
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            }
            assertThat(service.count("SELECT count(*) FROM pg_class WHERE relnamespace = 'auditstream'::regnamespace "
                    + "AND relowner <> 'auditstream'::regrole")).isZero();
        }
    }

    /** A data directory as the earlier version left it: its objects in schema public, owned by the superuser. */
    @Test
    void aDataDirectoryOfTheEarlierLayoutStartsWithItsRows() throws Exception {
        Path dataDir = RunningService.emptyDataDir("earlier-layout");
        try (EmbeddedPostgres earlier = EmbeddedPostgres.builder().setDataDirectory(dataDir.resolve("postgres"))
                .setCleanDataDirectory(false).start()) {
            // the earlier version's migrations alone: a repeatable migration of today would run at any target
            Path earlierMigrations = Files.createDirectories(dataDir.resolve("earlier-migrations"));
            for (String script : List.of("V1__audit_log.sql", "V2__log_streams.sql", "V3__exports.sql")) {
                try (var in = EmbeddedDatabaseTest.class.getResourceAsStream("/db/migration/" + script)) {
                    Files.copy(in, earlierMigrations.resolve(script));
                }
            }
            Flyway.configure().dataSource(earlier.getPostgresDatabase())
                    .locations("filesystem:" + earlierMigrations).load().migrate();
            try (Connection c = earlier.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                s.execute("INSERT INTO organization (id, name) VALUES ('org_EARLIER', 'Earlier Inc')");
                s.execute("INSERT INTO audit_event (organization_id, id, action, occurred_at, accepted_at, actor_id, "
                        + "target_ids, target_types, event) VALUES ('org_EARLIER', '01JEARLIER0000000000000000', "
                        + "'kept.event', now(), now(), 'user_1', '{t_1}', '{user}', '{\"id\":\"01JEARLIER0000000000000000\","
                        + "\"action\":\"kept.event\"}')");
                s.execute("INSERT INTO idempotency_key (key, request_hash, event_id) VALUES ('earlier-key', '\\x00', "
                        + "'01JEARLIER0000000000000000')");
            }
        }

        try (RunningService service = RunningService.start(dataDir)) {
            assertThat(service.get("/organizations/org_EARLIER").statusCode()).isEqualTo(200);
            String events = service.get("/audit_logs/events?organization_id=org_EARLIER").body();
            assertThat(TestJson.read(events).at("/data/0/action").asText()).isEqualTo("kept.event");
            assertThat(service.post("/audit_logs/events", TestJson.event("org_EARLIER", "after.upgrade")).statusCode())
                    .isEqualTo(200);
            assertThat(service.count("SELECT count(*) FROM audit_event WHERE organization_id = 'org_EARLIER'")).isEqualTo(2);
            assertThat(service.count("SELECT count(*) FROM idempotency_key WHERE key = 'earlier-key'")).isEqualTo(1);
            assertThat(service.count("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"))
                    .isZero();
            assertThat(service.count("SELECT count(*) FROM pg_class WHERE relnamespace = 'auditstream'::regnamespace "
                    + "AND relowner <> 'auditstream'::regrole")).isZero();
        }
    }
}
