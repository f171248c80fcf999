package dev.auditstream.it;

import static dev.auditstream.support.StreamApi.actions;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import dev.auditstream.crypto.KeyRing;
import dev.auditstream.crypto.OldFormat;
import dev.auditstream.receivers.SplunkHec;
import dev.auditstream.receivers.WebhookReceiver;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/**
 * The rotation README describes, on one installation: streams (one of them still sealed the way secrets were before
 * keys had ids), a portal link and session and an export link made under key A; a restart with B current and A
 * previous, where everything keeps working and new tokens are B's; the re-seal job reporting nothing left under A;
 * and a restart with B alone, where every stream still delivers with its own secrets and A's links are refused.
 */
class KeyRotationTest {

    private static final String KEY_A = key();
    private static final String KEY_B = key();
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String BEARER = "bearer-token-rotation";
    private static final String HEC_TOKEN = "splunk-token-rotation";

    @Test
    void streamsLinksAndSessionsSurviveARotationAndTheOldKeyCanGoOnceResealed() throws Exception {
        Path dataDir = RunningService.newDataDir("key-rotation");
        String idA = KeyRing.load(KEY_A, null, false, dataDir).currentId();
        String idB = KeyRing.load(KEY_B, null, false, dataDir).currentId();
        try (SplunkHec splunk = SplunkHec.start(HEC_TOKEN);
             RunningService service = RunningService.start(dataDir, Map.of(
                     "auditstream.secret-key", KEY_A,
                     "auditstream.allow-private-destinations", "true",
                     "auditstream.delivery.poll-interval", "100",
                     "auditstream.delivery.backoff-base", "PT0.2S",
                     "auditstream.delivery.backoff-max", "PT1S",
                     // nothing is re-sealed under A: the stream sealed the old way stays so until B is current
                     "auditstream.keys.reseal-interval", "3600000"))) {
            StreamApi streams = new StreamApi(service);
            String org = service.createOrganization("Rotating");
            JsonNode webhookStream = streams.create(org, "GenericHttps", "{\"url\":\"http://127.0.0.1:1/\","
                    + "\"auth\":{\"type\":\"bearer\",\"token\":\"" + BEARER + "\"}}");
            String webhookId = webhookStream.get("id").asText();
            String splunkId = streams.create(org, "Splunk", "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\""
                    + HEC_TOKEN + "\"}").get("id").asText();
            try (WebhookReceiver webhook = WebhookReceiver.builder(webhookStream.at("/config/signingSecret").asText())
                    .bearerToken(BEARER).start()) {
                streams.patch(webhookId, "{\"config\":{\"url\":\"" + webhook.baseUrl() + "/hooks\",\"auth\":{\"type\":"
                        + "\"bearer\",\"token\":\"" + BEARER + "\"}}}");
                // the Splunk stream's secrets as an installation from before key ids holds them
                storeInOldFormat(service, splunkId, "{\"/token\":\"" + HEC_TOKEN + "\"}");
                assertDelivered(streams, org, "under-a", webhook, splunk, 2);
                assertThat(sealedWith(service)).containsOnly(idA, "no key id");

                String link = generateLink(service, org);
                String session = open(link);
                String download = readyExportUrl(service, org);
                assertThat(token(link)).startsWith(idA + ".");
                assertThat(token(download)).startsWith(idA + ".");

                // B current, A previous
                service.restart(Map.of("auditstream.secret-key", KEY_B, "auditstream.secret-key-previous", KEY_A,
                        "auditstream.keys.reseal-interval", "200"));
                assertDelivered(streams, org, "under-b-and-a", webhook, splunk, 4);
                assertThat(open(link)).isNotNull();
                assertThat(sessionOrganization(service, session)).isEqualTo(org);
                assertThat(RunningService.sendRaw(HttpRequest.newBuilder(URI.create(download)).build()).statusCode())
                        .isEqualTo(200);
                assertThat(token(generateLink(service, org))).startsWith(idB + ".");
                assertThat(token(readyExportUrl(service, org))).startsWith(idB + ".");

                awaitMetric(service, "auditstream_secrets_awaiting_reseal 0.0");
                assertThat(sealedWith(service)).containsOnly(idB);

                // B alone
                service.restart(Map.of("auditstream.secret-key-previous", ""));
                assertDelivered(streams, org, "under-b", webhook, splunk, 6);
                assertThat(RunningService.sendRaw(HttpRequest.newBuilder(URI.create(link)).build()).statusCode())
                        .isEqualTo(403);
                assertThat(RunningService.sendRaw(HttpRequest.newBuilder(URI.create(download)).build()).statusCode())
                        .isEqualTo(403);
                assertThat(sessionStatus(service, session)).isEqualTo(401);

                assertMovedSecretsDoNotOpen(service, streams, webhookId);
            }
        }
    }

    /**
     * Someone who can write to the database copies a stream's sealed secrets onto a stream of their own that points
     * at them: the secrets do not open there, so nothing is sent.
     */
    private static void assertMovedSecretsDoNotOpen(RunningService service, StreamApi streams, String victimId)
            throws Exception {
        String intruder = service.createOrganization("Intruder");
        try (WebhookReceiver theirs = WebhookReceiver.start("whsec_" + key())) {
            String theirStream = streams.create(intruder, "GenericHttps", "{\"url\":\"" + theirs.baseUrl() + "\","
                    + "\"auth\":{\"type\":\"bearer\",\"token\":\"their-own-token\"}}").get("id").asText();
            service.execute("UPDATE log_stream SET secrets = (SELECT secrets FROM log_stream WHERE id = '" + victimId
                    + "'), config_version = config_version + 1 WHERE id = '" + theirStream + "'");
            // the service cannot read the stream's secrets: its own failure, and nothing leaves
            HttpResponse<String> test = service.post("/log_streams/" + theirStream + "/test", "{}");
            assertThat(test.statusCode()).isEqualTo(500);
            assertThat(test.body()).doesNotContain(BEARER);
            assertThat(theirs.requestCount()).isZero();
        }
    }

    /** Two more events reach both destinations, each checking its secrets (bearer token and signature, HEC token). */
    private static void assertDelivered(StreamApi streams, String org, String prefix, WebhookReceiver webhook,
                                        SplunkHec splunk, int total) throws Exception {
        List<String> sent = streams.send(org, prefix, 2);
        assertThat(actions(webhook.awaitEvents(total, WAIT))).endsWith(sent.toArray(String[]::new));
        assertThat(actions(splunk.awaitEvents(total, WAIT))).endsWith(sent.toArray(String[]::new));
    }

    private static void storeInOldFormat(RunningService service, String streamId, String secretsJson) throws Exception {
        try (Connection c = service.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE log_stream SET secrets = ?, config_version = config_version + 1 WHERE id = ?")) {
            ps.setBytes(1, OldFormat.seal(Base64.getDecoder().decode(KEY_A),
                    secretsJson.getBytes(StandardCharsets.UTF_8)));
            ps.setString(2, streamId);
            assertThat(ps.executeUpdate()).isEqualTo(1);
        }
    }

    /** The key id in front of each stream's sealed secrets. */
    private static List<String> sealedWith(RunningService service) throws Exception {
        try (Connection c = service.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT secrets FROM log_stream WHERE secrets IS NOT NULL"); ResultSet rs = ps.executeQuery()) {
            List<String> ids = new ArrayList<>();
            while (rs.next()) {
                byte[] sealed = rs.getBytes(1);
                ids.add(sealed[0] == 1 && sealed.length > 29 ? HexFormat.of().formatHex(sealed, 1, 5) : "no key id");
            }
            return ids;
        }
    }

    private static String generateLink(RunningService service, String org) throws Exception {
        HttpResponse<String> response = service.post("/portal/generate_link",
                "{\"organization\":\"" + org + "\",\"intent\":\"log_streams\"}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return TestJson.read(response.body()).get("link").asText();
    }

    /** Opens a setup link; the session cookie it starts. */
    private static String open(String link) throws Exception {
        HttpResponse<String> page = RunningService.sendRaw(HttpRequest.newBuilder(URI.create(link)).build());
        assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
        String cookie = page.headers().firstValue("Set-Cookie").orElseThrow();
        return cookie.substring(0, cookie.indexOf(';'));
    }

    private static String sessionOrganization(RunningService service, String session) throws Exception {
        HttpResponse<String> me = portalSession(service, session);
        assertThat(me.statusCode()).as(me.body()).isEqualTo(200);
        return TestJson.read(me.body()).at("/organization/id").asText();
    }

    private static int sessionStatus(RunningService service, String session) throws Exception {
        return portalSession(service, session).statusCode();
    }

    private static HttpResponse<String> portalSession(RunningService service, String session) throws Exception {
        return RunningService.sendRaw(HttpRequest.newBuilder(service.uri("/portal/api/session"))
                .header("X-AuditStream-Portal", "1").header("Cookie", session).build());
    }

    private static String readyExportUrl(RunningService service, String org) throws Exception {
        HttpResponse<String> created = service.post("/audit_logs/exports", "{\"organization_id\":\"" + org
                + "\",\"range_start\":\"2024-01-01T00:00:00Z\",\"range_end\":\"2025-01-01T00:00:00Z\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return service.awaitReadyExport(TestJson.read(created.body()).get("id").asText()).get("url").asText();
    }

    private static String token(String url) {
        return url.substring(url.indexOf("token=") + "token=".length());
    }

    private static void awaitMetric(RunningService service, String line) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String metrics = "";
        while (System.nanoTime() < deadline) {
            metrics = RunningService.sendRaw(HttpRequest.newBuilder(service.managementUri("/observe/metrics")).build())
                    .body();
            if (metrics.lines().anyMatch(line::equals)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no metric line " + line + " in:\n" + metrics.lines()
                .filter(l -> l.startsWith("auditstream_secrets")).toList());
    }

    private static String key() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }
}
