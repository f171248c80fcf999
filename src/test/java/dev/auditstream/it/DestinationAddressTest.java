package dev.auditstream.it;

import static dev.auditstream.support.StreamApi.inState;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.http.HttpResponse;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.auditstream.receivers.ConnectionTrap;
import dev.auditstream.stores.LoopbackGcs;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.TestDns;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/**
 * Destination addresses as production checks them (private destinations not allowed), with DNS answered by the test:
 * every address is checked when a stream is configured and again at every connect, which uses exactly the addresses
 * it checked; a host that does not resolve is retried, not refused.
 */
class DestinationAddressTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private static final TestDns DNS = new TestDns();

    private static ConnectionTrap loopback;
    private static RunningService service;
    private static StreamApi streams;

    @BeforeAll
    static void start() throws Exception {
        loopback = ConnectionTrap.open();
        service = RunningService.start(RunningService.newDataDir("destination-addresses"), Map.of(
                "auditstream.delivery.poll-interval", "100",
                "auditstream.delivery.backoff-base", "PT0.2S",
                "auditstream.delivery.backoff-max", "PT1S"), Map.of("hostResolver", DNS));
        streams = new StreamApi(service);
    }

    @AfterAll
    static void stop() throws Exception {
        service.close();
        loopback.close();
    }

    @Test
    void aHostThatRebindsToALoopbackAddressGetsNothingAndTheStreamIsInvalid() throws Exception {
        String org = service.createOrganization("Rebinding");
        answer("rebind.test", "93.184.216.34");
        String id = streams.create(org, "GenericHttps", "{\"url\":\"https://rebind.test:" + loopback.port()
                + "/hook\"}").get("id").asText();

        answer("rebind.test", "127.0.0.1");
        JsonNode test = TestJson.read(service.post("/log_streams/" + id + "/test", "{}").body());
        assertThat(test.get("success").asBoolean()).isFalse();
        assertThat(test.get("error").asText()).isEqualTo(
                "The host rebind.test resolves to a loopback address, which destinations may not be.");
        streams.send(org, "rebound", 1);
        JsonNode invalid = streams.awaitStream(id, inState("invalid"), WAIT);
        assertThat(invalid.get("state_reason").asText()).contains("rebind.test resolves to a loopback address");
        assertThat(loopback.connections()).isZero();
    }

    @Test
    void aHostThatDoesNotResolveIsRetriedNotRefused() throws Exception {
        String org = service.createOrganization("DNS Failure");
        JsonNode stream = streams.create(org, "Splunk", "{\"url\":\"https://hec.flaky.test:8088\",\"token\":\"tok-dns\"}");
        assertThat(stream.get("state").asText()).isEqualTo("active");
        streams.send(org, "unresolved", 1);
        JsonNode failing = streams.awaitStream(stream.get("id").asText(), inState("error"), WAIT);
        assertThat(failing.get("state_reason").asText()).contains("hec.flaky.test does not resolve");
    }

    @Test
    void addressesOfThisNetworkAreRefusedInEveryForm() throws Exception {
        String org = service.createOrganization("Address Forms");
        answer("cgnat.test", "100.100.100.200");
        answer("mixed.test", "8.8.8.8", "10.0.0.1");
        answer("nat64.test", "64:ff9b::a9fe:a9fe");
        answer("public.test", "8.8.8.8", "2606:4700:4700::1111");
        for (String url : List.of("https://2130706433/", "https://0177.0.0.1/", "https://0x7f.1/", "https://127.1/",
                "https://127.0.0.1./", "https://[::ffff:127.0.0.1]/", "https://[::127.0.0.1]/", "https://[::]/",
                "https://[64:ff9b::a9fe:a9fe]/", "https://[2002:a9fe:a9fe::1]/", "https://[fd00:ec2::254]/",
                "https://0.0.0.0/", "https://100.100.100.200/", "https://192.0.0.170/", "https://198.18.0.1/",
                "https://240.0.0.1/", "https://255.255.255.255/", "https://cgnat.test/", "https://mixed.test/",
                "https://nat64.test/", "https://user:password@public.test/", "http://public.test/")) {
            HttpResponse<String> refused = service.post("/log_streams", "{\"organization_id\":\"" + org
                    + "\",\"type\":\"GenericHttps\",\"config\":{\"url\":\"" + url + "\"}}");
            assertThat(refused.statusCode()).as(url).isEqualTo(422);
            assertThat(TestJson.read(refused.body()).at("/errors/0/field").asText()).as(url).isEqualTo("config.url");
        }
        assertThat(streams.create(org, "GenericHttps", "{\"url\":\"https://public.test/hook?proxyHost=10.0.0.1\"}")
                .get("state").asText()).isEqualTo("active");
    }

    @Test
    void aServiceAccountKeyMustGetItsTokenFromGoogle() throws Exception {
        String org = service.createOrganization("Token URI");
        for (String tokenUri : List.of("https://attacker.test/token", "http://169.254.169.254/token",
                "https://oauth2.googleapis.com.attacker.test/token")) {
            HttpResponse<String> refused = service.post("/log_streams", gcs(org, tokenUri));
            assertThat(refused.statusCode()).as(tokenUri).isEqualTo(422);
            assertThat(TestJson.read(refused.body()).at("/errors/0/field").asText())
                    .isEqualTo("config.serviceAccountKey");
        }
        for (String google : List.of("https://oauth2.googleapis.com/token", "https://accounts.google.com/o/oauth2/token")) {
            assertThat(service.post("/log_streams", gcs(org, google)).statusCode()).as(google).isEqualTo(201);
        }
    }

    private static String gcs(String org, String tokenUri) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        ObjectNode key = (ObjectNode) TestJson.read(
                LoopbackGcs.keyFile("writer@project.iam.gserviceaccount.com", generator.generateKeyPair()));
        key.put("token_uri", tokenUri);
        ObjectNode body = TestJson.MAPPER.createObjectNode().put("organization_id", org)
                .put("type", "GoogleCloudStorage");
        body.putObject("config").put("bucketName", "audit-bucket").put("serviceAccountKey", key.toString());
        return body.toString();
    }

    private static void answer(String host, String... addresses) throws UnknownHostException {
        InetAddress[] answer = new InetAddress[addresses.length];
        for (int i = 0; i < addresses.length; i++) {
            answer[i] = InetAddress.getByName(addresses[i]);
        }
        DNS.answer(host, answer);
    }
}
