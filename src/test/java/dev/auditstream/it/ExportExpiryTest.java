package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.TestJson;

/** A written export is kept for AUDITSTREAM_EXPORTS_KEEP_FOR, then purged with its chunks; its link goes with it. */
class ExportExpiryTest {

    @Test
    void anExpiredExportIsPurgedWithItsChunksAndItsLinkStopsWorking() throws Exception {
        try (RunningService service = RunningService.start(RunningService.newDataDir("export-expiry"), Map.of(
                "auditstream.exports.keep-for", "PT3S",
                "auditstream.exports.purge-interval", "200"))) {
            String org = service.createOrganization("Short-lived exports");
            assertThat(service.post("/audit_logs/events", TestJson.event(org, "user.signed_in")).statusCode())
                    .isEqualTo(200);
            HttpResponse<String> created = service.post("/audit_logs/exports", "{\"organization_id\":\"" + org
                    + "\",\"range_start\":\"2024-01-01T00:00:00Z\",\"range_end\":\"2025-01-01T00:00:00Z\"}");
            String id = TestJson.read(created.body()).get("id").asText();
            String url = service.awaitReadyExport(id).get("url").asText();
            assertThat(download(url).statusCode()).isEqualTo(200);
            assertThat(service.count("SELECT count(*) FROM audit_log_export_chunk WHERE export_id = '" + id + "'"))
                    .isPositive();

            // the purge job deletes it once it has expired
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (service.count("SELECT count(*) FROM audit_log_export WHERE id = '" + id + "'") > 0) {
                assertThat(System.nanoTime()).as("purged in time").isLessThan(deadline);
                Thread.sleep(100);
            }
            assertThat(service.count("SELECT count(*) FROM audit_log_export_chunk WHERE export_id = '" + id + "'"))
                    .isZero();
            assertThat(service.get("/audit_logs/exports/" + id).statusCode()).isEqualTo(404);
            assertThat(download(url).statusCode()).isEqualTo(404);
        }
    }

    private static HttpResponse<String> download(String url) throws Exception {
        return RunningService.sendRaw(HttpRequest.newBuilder(URI.create(url)).build());
    }
}
