package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/**
 * The Admin Portal in a real browser: Debian's Chromium driven by Playwright (portal-tests/portal.spec.mjs) through a
 * setup link, creating a GenericHttps stream to a receiver here and sending a test event that must arrive signed.
 */
class PortalBrowserTest {

    private static final Path SCRIPTS = Path.of("portal-tests");

    /** One request the receiver got: its signature headers and body. */
    private record Received(String id, String timestamp, String signature, byte[] body) {
    }

    @Test
    void anItAdminSetsUpAStreamFromASetupLink() throws Exception {
        String chromium = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
        assertThat(Path.of(chromium)).as("Chromium for the browser tests: apt-get install chromium").exists();
        assertThat(SCRIPTS.resolve("node_modules/playwright-core")).as("npm ci in portal-tests").exists();

        List<Received> received = new CopyOnWriteArrayList<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/", exchange -> {
            received.add(new Received(exchange.getRequestHeaders().getFirst("webhook-id"),
                    exchange.getRequestHeaders().getFirst("webhook-timestamp"),
                    exchange.getRequestHeaders().getFirst("webhook-signature"),
                    exchange.getRequestBody().readAllBytes()));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        receiver.start();
        try (RunningService service = RunningService.start(RunningService.newDataDir("portal-browser"), Map.of(
                "auditstream.allow-private-destinations", "true",
                "auditstream.portal.link-lifetime", "PT20S"))) {
            String org = service.createOrganization("Acme Security");
            String other = service.createOrganization("Another Customer");
            String othersStream = new StreamApi(service).create(other, "Datadog", "{\"apiKey\":\"dd-other-000000000\"}")
                    .get("id").asText();
            String expired = link(service, org);
            Thread.sleep(20_100);
            String valid = link(service, org);

            Path screenshots = Path.of("target", "portal-screenshots").toAbsolutePath();
            Files.createDirectories(screenshots);
            ProcessBuilder node = new ProcessBuilder("node", "--test", "portal.spec.mjs")
                    .directory(SCRIPTS.toFile()).redirectErrorStream(true);
            node.environment().putAll(Map.of(
                    "PORTAL_LINK", valid,
                    "EXPIRED_LINK", expired,
                    "OTHER_STREAM_ID", othersStream,
                    "RECEIVER_URL", "http://127.0.0.1:" + receiver.getAddress().getPort() + "/audit",
                    "SCREENSHOT_DIR", screenshots.toString(),
                    "CHROMIUM", chromium));
            Process run = node.start();
            String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(run.waitFor(180, TimeUnit.SECONDS)).isTrue();
            assertThat(run.exitValue()).as(output).isZero();

            // the test event the page sent arrived, signed with the secret the page showed once
            String secret = output.lines().filter(l -> l.contains("SIGNING_SECRET=")).findFirst().orElseThrow()
                    .replaceAll(".*SIGNING_SECRET=", "").trim();
            // the first request is the check before saving (an unsaved config signs with a secret of its own)
            assertThat(received).hasSizeGreaterThanOrEqualTo(2);
            Received test = received.get(1);
            assertThat(new String(test.body(), StandardCharsets.UTF_8)).contains("auditstream.test_event");
            assertThat(test.signature()).isEqualTo("v1," + hmac(secret, test.id() + "." + test.timestamp() + ".", test.body()));
            assertThat(service.count("SELECT count(*) FROM log_stream WHERE organization_id = '" + org
                    + "' AND type = 'GenericHttps'")).isEqualTo(1);
        } finally {
            receiver.stop(0);
        }
    }

    private static String link(RunningService service, String org) throws IOException, InterruptedException {
        return TestJson.read(service.post("/portal/generate_link", "{\"organization\":\"" + org
                + "\",\"intent\":\"log_streams\",\"success_url\":\"https://app.example.com/settings\"}").body())
                .get("link").asText();
    }

    private static String hmac(String secret, String prefix, byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring("whsec_".length())), "HmacSHA256"));
        mac.update(prefix.getBytes(StandardCharsets.UTF_8));
        return Base64.getEncoder().encodeToString(mac.doFinal(body));
    }
}
