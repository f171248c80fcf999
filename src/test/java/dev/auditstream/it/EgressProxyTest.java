package dev.auditstream.it;

import static dev.auditstream.support.StreamApi.inState;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import dev.auditstream.receivers.ConnectProxy;
import dev.auditstream.receivers.TestCertificates;
import dev.auditstream.receivers.WebhookReceiver;
import dev.auditstream.stores.LoopbackSts;
import dev.auditstream.stores.S3ProxyServer;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.TestDns;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/**
 * Destination traffic through an egress proxy, with destination addresses checked as in production (private
 * destinations not allowed) and DNS answered by the test: a webhook's host resolves to a public address, which the
 * proxy routes to a loopback receiver, so the tunnel must be asked for exactly the checked address; S3 and STS go
 * through the proxy too; Google's XML API at "localhost" is in NO_PROXY and goes around it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EgressProxyTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String PUBLIC_ADDRESS = "93.184.216.34";
    private static final TestDns DNS = new TestDns();

    private static ConnectProxy proxy;
    private static S3ProxyServer s3;
    private static LoopbackSts sts;
    private static WebhookReceiver webhook;
    private static TestCertificates.Identity receiverIdentity;
    private static TestCertificates.Identity clientIdentity;
    private static RunningService service;
    private static StreamApi streams;

    @BeforeAll
    static void start() throws Exception {
        proxy = ConnectProxy.start("egress", "pa:ss word");
        s3 = S3ProxyServer.start("egress-bucket", "egress-hmac-bucket");
        sts = LoopbackSts.start();
        Path certificates = TestCertificates.directory();
        receiverIdentity = TestCertificates.create(certificates, "siem", null, 30, "dns:siem.test");
        clientIdentity = TestCertificates.create(certificates, "egress-client", null, 30);
        webhook = WebhookReceiver.builder("whsec_" + java.util.Base64.getEncoder().encodeToString(new byte[32]))
                .mutualTls(TestCertificates.serverTls(receiverIdentity, clientIdentity)).start();
        DNS.answer("siem.test", InetAddress.getByName(PUBLIC_ADDRESS));
        proxy.route(PUBLIC_ADDRESS + ":443", Integer.parseInt(webhook.baseUrl().replaceFirst(".*:", "")));
        service = RunningService.start(RunningService.newDataDir("egress-proxy"), Map.ofEntries(
                Map.entry("auditstream.egress.proxy", proxy.url()),
                Map.entry("auditstream.egress.proxy-user", "egress"),
                Map.entry("auditstream.egress.proxy-password", "pa:ss word"),
                Map.entry("auditstream.egress.no-proxy", "localhost, .internal.test"),
                Map.entry("auditstream.egress.addresses", "203.0.113.7, 198.51.100.0/28, 2001:db8::/64"),
                Map.entry("auditstream.s3.endpoint", s3.endpoint().toString()),
                Map.entry("auditstream.sts.endpoint", sts.endpoint().toString()),
                Map.entry("auditstream.gcs.xml-endpoint", s3.endpoint().toString().replace("127.0.0.1", "localhost")),
                Map.entry("auditstream.aws.principal-arn", "arn:aws:iam::999999999999:role/auditstream"),
                Map.entry("auditstream.aws.access-key-id", "service-own-key"),
                Map.entry("auditstream.aws.secret-access-key", "service-own-secret"),
                Map.entry("auditstream.delivery.poll-interval", "100"),
                Map.entry("auditstream.delivery.backoff-base", "PT0.2S"),
                Map.entry("auditstream.delivery.backoff-max", "PT1S")), Map.of("hostResolver", DNS));
        streams = new StreamApi(service);
    }

    @AfterAll
    static void stop() throws Exception {
        service.close();
        webhook.close();
        sts.close();
        s3.close();
        proxy.close();
    }

    @Test
    @Order(1)
    void anHttpsWebhookIsTunnelledToTheCheckedAddressWithTlsForItsName() throws Exception {
        String org = service.createOrganization("Egress Webhook");
        JsonNode stream = streams.create(org, "GenericHttps", webhookConfig("siem.test"));
        webhook.requireSignaturesBy(stream.at("/config/signingSecret").asText());

        List<String> sent = streams.send(org, "egress", 2);

        assertThat(StreamApi.actions(webhook.awaitEvents(2, WAIT))).containsExactlyElementsOf(sent);
        assertThat(webhook.requests()).allSatisfy(request -> assertThat(request.header("Host")).isEqualTo("siem.test"));
        // every connection went through the proxy, which was asked for the address, never the name
        assertThat(proxy.targets()).isNotEmpty().allMatch(target -> !target.contains("siem.test"));
        assertThat(proxy.targets()).contains(PUBLIC_ADDRESS + ":443");
        assertThat(streams.get(stream.get("id").asText()).get("state").asText()).isEqualTo("active");
    }

    @Test
    @Order(2)
    void s3UploadsAndStsGoThroughTheProxyWhileNoProxyHostsGoAround() throws Exception {
        String org = service.createOrganization("Egress Stores");
        streams.create(org, "S3", "{\"accountId\":\"123456789012\",\"roleName\":\"writer\",\"bucketName\":"
                + "\"egress-bucket\"}");
        streams.create(org, "GoogleCloudStorage", "{\"bucketName\":\"egress-hmac-bucket\",\"accessKeyId\":\""
                + S3ProxyServer.IDENTITY + "\",\"secretAccessKey\":\"" + S3ProxyServer.CREDENTIAL + "\"}");

        streams.send(org, "stored", 2);

        RunningService.await("both buckets written", () -> s3.keys("egress-bucket").size() == 2
                && s3.keys("egress-hmac-bucket").size() == 2);
        String s3Port = String.valueOf(s3.endpoint().getPort());
        assertThat(proxy.targets()).contains("127.0.0.1:" + s3Port, "127.0.0.1:" + sts.endpoint().getPort());
        // the XML API was reached as localhost, which NO_PROXY names: the proxy never saw it
        assertThat(proxy.targets()).noneMatch(target -> target.startsWith("localhost"));
    }

    @Test
    @Order(3)
    void aDestinationThatResolvesToAPrivateAddressIsRefusedAndNeverReachesTheProxy() throws Exception {
        String org = service.createOrganization("Egress Rebinding");
        DNS.answer("rebind.test", InetAddress.getByName("93.184.216.35"));
        String id = streams.create(org, "GenericHttps", webhookConfig("rebind.test")).get("id").asText();
        DNS.answer("rebind.test", InetAddress.getLoopbackAddress());
        int before = proxy.targets().size() + proxy.refused().size();

        JsonNode test = TestJson.read(service.post("/log_streams/" + id + "/test", "{}").body());

        assertThat(test.get("success").asBoolean()).isFalse();
        assertThat(test.get("error").asText())
                .isEqualTo("The host rebind.test resolves to a loopback address, which destinations may not be.");
        streams.send(org, "rebound", 1);
        JsonNode invalid = streams.awaitStream(id, inState("invalid"), WAIT);
        assertThat(invalid.get("state_reason").asText()).contains("rebind.test resolves to a loopback address");
        assertThat(proxy.targets().size() + proxy.refused().size()).isEqualTo(before);
    }

    @Test
    @Order(4)
    void egressAddressesArePublishedForAllowLists() throws Exception {
        var answer = service.get("/egress");
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(TestJson.read(answer.body())).isEqualTo(TestJson.read(
                "{\"object\":\"egress\",\"addresses\":[\"203.0.113.7\",\"198.51.100.0/28\",\"2001:db8:0:0:0:0:0:0/64\"]}"));
        assertThat(RunningService.sendRaw(java.net.http.HttpRequest.newBuilder(service.uri("/egress")).GET().build())
                .statusCode()).isEqualTo(401);
    }

    @Test
    @Order(5)
    void wrongProxyCredentialsAreOurFailureAndTheStreamIsRetried() throws Exception {
        service.restart(Map.of("auditstream.egress.proxy-password", "wrong"));
        String org = service.createOrganization("Egress Wrong Credentials");
        String id = streams.create(org, "GenericHttps", webhookConfig("siem.test")).get("id").asText();

        streams.send(org, "refused", 1);

        JsonNode failing = streams.awaitStream(id, inState("error"), WAIT);
        assertThat(failing.get("state_reason").asText()).contains("egress proxy", "407");
        assertThat(proxy.refused()).contains(PUBLIC_ADDRESS + ":443");
    }

    private static String webhookConfig(String host) {
        return "{\"url\":\"https://" + host + "/hooks\",\"auth\":{\"type\":\"mtls\",\"clientCertificate\":"
                + TestJson.quote(clientIdentity.certificatePem()) + ",\"clientKey\":"
                + TestJson.quote(clientIdentity.keyPem()) + ",\"caCertificate\":"
                + TestJson.quote(receiverIdentity.certificatePem()) + "}}";
    }
}
