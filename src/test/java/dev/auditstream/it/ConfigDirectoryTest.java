package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import dev.auditstream.support.ChildService;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.TestJson;

/**
 * The same jar runs with an operator's edits: AUDITSTREAM_CONFIG_DIR (on Kubernetes the mounted ConfigMap) holds
 * property overrides and route files that replace or add to the packaged ones.
 */
class ConfigDirectoryTest {

    /** An edited copy of a packaged route file: organization creation also answers with a Location header. */
    static String organizationsRouteWithLocationHeader() throws IOException {
        String packaged = Files.readString(Path.of("routes/organizations.yaml"));
        String answer = """
                        - setHeader:
                            id: answer-organization-created
                """;
        assertThat(packaged).contains(answer);
        return packaged.replace(answer, """
                        - setHeader:
                            id: locate-created-organization
                            name: Location
                            simple: "/organizations/${variable.organizationId}"
                """ + answer);
    }

    @Test
    void propertiesAndRouteFilesInTheConfigDirectoryOverrideThePackagedOnes() throws Exception {
        Path dataDir = RunningService.newDataDir("config-dir");
        Path configDir = Files.createDirectories(dataDir.resolve("config"));
        Files.writeString(configDir.resolve("application.properties"), "auditstream.http.max-body-bytes = 400\n");
        Files.writeString(configDir.resolve("organizations.yaml"), organizationsRouteWithLocationHeader());
        // and a route file of its own
        Files.writeString(configDir.resolve("ping.yaml"), """
                - route:
                    id: ping
                    from:
                      uri: platform-http:/ping
                      steps:
                        - setBody:
                            id: answer-pong
                            constant: pong
                """);

        try (ChildService child = ChildService.start(dataDir, "config-dir",
                Map.of("AUDITSTREAM_CONFIG_DIR", configDir.toString()))) {
            HttpResponse<String> created = child.post("/organizations", "{\"name\":\"Edited Routes\"}");
            assertThat(created.statusCode()).isEqualTo(201);
            String id = TestJson.read(created.body()).get("id").asText();
            assertThat(created.headers().firstValue("location")).hasValue("/organizations/" + id);

            assertThat(RunningService.sendRaw(HttpRequest.newBuilder(child.uri("/ping")).build()).body())
                    .isEqualTo("pong");

            // the packaged routes not in the directory are still there; the property override applies to them
            String small = TestJson.event(id, "config.dir");
            assertThat(small.length()).isLessThan(400);
            assertThat(child.post("/audit_logs/events", small).statusCode()).isEqualTo(200);
            String large = TestJson.event(id, "config.dir." + "x".repeat(400));
            assertThat(child.post("/audit_logs/events", large).statusCode()).isEqualTo(413);
        }
    }
}
