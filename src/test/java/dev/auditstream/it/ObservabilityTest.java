package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.TestJson;

/** The management port: health that follows the database, Prometheus metrics that follow ingestion. */
class ObservabilityTest {

    @Test
    void metricsCountIngestionAndItsLatency() throws Exception {
        try (RunningService service = RunningService.start(RunningService.newDataDir("metrics"))) {
            String org = service.createOrganization("Metrics");
            for (int i = 0; i < 5; i++) {
                assertThat(service.post("/audit_logs/events", TestJson.event(org, "m.x")).statusCode()).isEqualTo(200);
            }
            service.post("/audit_logs/events", "{");

            String metrics = management(service, "/observe/metrics").body();
            assertThat(metrics).contains("auditstream_events_accepted_total 5.0");
            assertThat(metrics).containsPattern("auditstream_ingest_latency_seconds\\{quantile=\"0.99\"}");
            assertThat(metrics).containsPattern("auditstream_ingest_batch_size_count [1-5]");
            assertThat(metrics).contains("camel_exchanges_total{camelContext=\"auditstream\",eventType=\"route\","
                    + "kind=\"CamelRoute\",routeId=\"ingest-event\"} 6.0");
        }
    }

    @Test
    void readinessFollowsTheDatabaseAndIngestionAnswers503WithoutIt() throws Exception {
        // a short wait for a connection: the outage is noticed, and the service stopped, without long time-outs
        RunningService service = RunningService.start(RunningService.newDataDir("outage"),
                Map.of("auditstream.db.connection-timeout", "PT1S"));
        try {
            String org = service.createOrganization("Outage");
            assertThat(management(service, "/observe/health/ready").statusCode()).isEqualTo(200);

            // fast shutdown of the embedded PostgreSQL server under the running service
            String pid = Files.readAllLines(service.dataDir().resolve("postgres/postmaster.pid")).get(0).trim();
            new ProcessBuilder("kill", "-INT", pid).start().waitFor();

            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (management(service, "/observe/health/ready").statusCode() != 503 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(management(service, "/observe/health/ready").statusCode()).isEqualTo(503);
            assertThat(management(service, "/observe/health/live").statusCode()).isEqualTo(200);

            HttpResponse<String> refused = service.post("/audit_logs/events", TestJson.event(org, "during.outage"));
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).isPresent();
            assertThat(TestJson.read(refused.body()).get("code").asText()).isEqualTo("service_unavailable");
        } finally {
            service.close();
        }
    }

    private static HttpResponse<String> management(RunningService service, String path) throws Exception {
        return RunningService.sendRaw(HttpRequest.newBuilder(service.managementUri(path))
                .timeout(Duration.ofSeconds(20)).build());
    }
}
