package dev.auditstream.it;

import static dev.auditstream.support.StreamApi.inState;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

import dev.auditstream.stores.LoopbackGcs;
import dev.auditstream.stores.LoopbackSts;
import dev.auditstream.stores.S3ProxyServer;
import dev.auditstream.support.ChildService;
import dev.auditstream.support.EventSender;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/**
 * S3 through a real S3 server (s3proxy) and a loopback STS, Google Cloud Storage through a loopback token endpoint
 * and JSON API (with generated full-size service-account keys) and, in HMAC mode, through s3proxy as its
 * S3-compatible API: exact keys and bytes, states, restarts, token refresh, buckets that refuse overwrites.
 */
class ObjectStoreDeliveryTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String BUCKET = "audit-bucket";
    private static final String ACCOUNT = "123456789012";

    private static S3ProxyServer s3;
    private static LoopbackSts sts;
    private static LoopbackGcs gcs;
    private static RunningService service;
    private static StreamApi streams;

    @BeforeAll
    static void start() throws Exception {
        s3 = S3ProxyServer.start(BUCKET, "gcs-hmac-bucket");
        sts = LoopbackSts.start();
        gcs = LoopbackGcs.start();
        service = RunningService.start(RunningService.newDataDir("object-stores"), Map.ofEntries(
                Map.entry("auditstream.s3.endpoint", s3.endpoint().toString()),
                Map.entry("auditstream.sts.endpoint", sts.endpoint().toString()),
                Map.entry("auditstream.gcs.endpoint", gcs.endpoint().toString()),
                Map.entry("auditstream.gcs.token-uri", gcs.tokenUri().toString()),
                Map.entry("auditstream.gcs.xml-endpoint", s3.endpoint().toString()),
                Map.entry("auditstream.aws.principal-arn", "arn:aws:iam::999999999999:role/auditstream"),
                Map.entry("auditstream.aws.access-key-id", "service-own-key"),
                Map.entry("auditstream.aws.secret-access-key", "service-own-secret"),
                Map.entry("auditstream.delivery.poll-interval", "100"),
                Map.entry("auditstream.delivery.backoff-base", "PT0.2S"),
                Map.entry("auditstream.delivery.backoff-max", "PT1S")));
        streams = new StreamApi(service);
    }

    @AfterAll
    static void stop() throws Exception {
        service.close();
        sts.close();
        s3.close();
        gcs.close();
    }

    private static JsonNode s3Stream(String org, String role, String bucket, String path) throws Exception {
        return streams.create(org, "S3", "{\"accountId\":\"" + ACCOUNT + "\",\"roleName\":\"" + role
                + "\",\"bucketName\":\"" + bucket + "\"" + (path == null ? "" : ",\"bucketPath\":\"" + path + "\"")
                + "}");
    }

    @Test
    void s3ObjectsLandWithExactKeysAndBytesThroughTheAssumedRole() throws Exception {
        String org = service.createOrganization("S3 Org");
        JsonNode stream = s3Stream(org, "audit-writer", BUCKET, "/tenant-a/logs/");
        String id = stream.get("id").asText();
        String externalId = stream.at("/config/externalId").asText();
        assertThat(externalId).startsWith("auditstream-");
        assertThat(stream.at("/config/trustPrincipal").asText()).isEqualTo("arn:aws:iam::999999999999:role/auditstream");
        assertThat(s3Stream(org, "other", BUCKET, null).at("/config/externalId").asText()).isNotEqualTo(externalId);

        List<String> sent = streams.send(org, "s3", 3);
        awaitKeys(BUCKET, "tenant-a/logs/", 3);

        for (String action : sent) {
            String event = service.storedEvent(action);
            JsonNode json = TestJson.read(event);
            String accepted = acceptedAt(json.get("id").asText());
            String key = s3.keys(BUCKET).stream().filter(k -> k.startsWith("tenant-a/logs/" + accepted.substring(0, 10)
                    + "/" + accepted + "_")).filter(k -> {
                        try {
                            return TestJson.read(s3.content(BUCKET, k)).get("id").asText().equals(json.get("id").asText());
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }).findFirst().orElseThrow();
            assertThat(key).matches("tenant-a/logs/\\d{4}-\\d{2}-\\d{2}/\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z_[0-9a-f]{12}\\.json");
            assertThat(s3.content(BUCKET, key)).isEqualTo(TestJson.MAPPER.writerWithDefaultPrettyPrinter()
                    .writeValueAsString(TestJson.read(event)));
        }
        Map<String, String> assumed = sts.requests().stream()
                .filter(r -> ("auditstream-" + id).equals(r.get("RoleSessionName"))).findFirst()
                .orElseThrow(() -> new AssertionError("no AssumeRole for " + id + " in " + sts.requests()));
        assertThat(assumed).containsEntry("Action", "AssumeRole")
                .containsEntry("RoleArn", "arn:aws:iam::" + ACCOUNT + ":role/audit-writer")
                .containsEntry("ExternalId", externalId)
                .containsEntry("RoleSessionName", "auditstream-" + id);
        assertThat(assumed.get("Authorization")).contains("Credential=service-own-key/");

        JsonNode setup = TestJson.read(service.get("/log_streams/" + id + "/setup").body());
        assertThat(setup.at("/trust_policy/Statement/0/Principal/AWS").asText())
                .isEqualTo("arn:aws:iam::999999999999:role/auditstream");
        assertThat(setup.at("/trust_policy/Statement/0/Condition/StringEquals/sts:ExternalId").asText())
                .isEqualTo(externalId);
        assertThat(setup.at("/permissions_policy/Statement/0/Resource/0").asText())
                .isEqualTo("arn:aws:s3:::" + BUCKET + "/tenant-a/logs/*");
        assertThat(setup.get("role_arn").asText()).isEqualTo("arn:aws:iam::" + ACCOUNT + ":role/audit-writer");
    }

    @Test
    void theServerChecksContentMd5() throws Exception {
        byte[] body = "{\"id\":\"x\"}".getBytes(StandardCharsets.UTF_8);
        String wrong = Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5")
                .digest("another body".getBytes(StandardCharsets.UTF_8)));
        try (S3Client client = S3Client.builder().endpointOverride(s3.endpoint()).forcePathStyle(true)
                .region(Region.US_EAST_1)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(S3ProxyServer.IDENTITY, S3ProxyServer.CREDENTIAL))).build()) {
            assertThatThrownBy(() -> client.putObject(b -> b.bucket(BUCKET).key("md5/wrong").contentMD5(wrong),
                    RequestBody.fromBytes(body)))
                    .isInstanceOfSatisfying(S3Exception.class,
                            e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("BadDigest"));
        }
        assertThat(s3.keys(BUCKET)).doesNotContain("md5/wrong");
    }

    @Test
    void aMissingBucketMakesTheStreamInvalid() throws Exception {
        String org = service.createOrganization("No Bucket Org");
        String id = s3Stream(org, "audit-writer", "no-such-bucket", null).get("id").asText();
        streams.send(org, "nobucket", 1);
        JsonNode invalid = streams.awaitStream(id, inState("invalid"), WAIT);
        assertThat(invalid.get("state_reason").asText()).contains("NoSuchBucket");
    }

    @Test
    void aRefusedAssumeRoleMakesTheStreamInvalidWithAReasonToActOn() throws Exception {
        String org = service.createOrganization("Untrusted Org");
        JsonNode stream = s3Stream(org, "untrusting-role", BUCKET, "untrusted");
        String id = stream.get("id").asText();
        sts.trust("some-other-external-id");
        try {
            streams.send(org, "untrusted", 1);
            JsonNode invalid = streams.awaitStream(id, inState("invalid"), WAIT);
            assertThat(invalid.get("state_reason").asText())
                    .contains("arn:aws:iam::" + ACCOUNT + ":role/untrusting-role")
                    .contains(stream.at("/config/externalId").asText());
        } finally {
            sts.trust(null);
        }
        assertThat(s3.keys(BUCKET)).noneMatch(k -> k.startsWith("untrusted/"));
    }

    @Test
    void whileTheServerIsDownTheStreamIsInErrorAndEverythingArrivesAfter() throws Exception {
        String org = service.createOrganization("Restart Org");
        String id = s3Stream(org, "audit-writer", BUCKET, "restart").get("id").asText();
        streams.send(org, "before", 2);
        awaitKeys(BUCKET, "restart/", 2);

        s3.stop();
        try {
            streams.send(org, "during", 5);
            streams.awaitStream(id, inState("error"), WAIT);
        } finally {
            s3.restart();
        }
        streams.awaitStream(id, inState("active"), WAIT);
        awaitKeys(BUCKET, "restart/", 7);
        Thread.sleep(500);
        assertThat(s3.keys(BUCKET).stream().filter(k -> k.startsWith("restart/"))).hasSize(7);
    }

    @Test
    void expiringCredentialsAreRefreshed() throws Exception {
        sts.lifetime(Duration.ofSeconds(62));
        try {
            String org = service.createOrganization("Refresh Org");
            String id = s3Stream(org, "short-lived", BUCKET, "refresh").get("id").asText();
            streams.send(org, "first", 1);
            awaitKeys(BUCKET, "refresh/", 1);
            long assumed = sts.requests().stream().filter(r -> r.get("RoleSessionName").equals("auditstream-" + id)).count();
            Thread.sleep(3000);
            streams.send(org, "second", 1);
            awaitKeys(BUCKET, "refresh/", 2);
            assertThat(sts.requests().stream().filter(r -> r.get("RoleSessionName").equals("auditstream-" + id)).count())
                    .isGreaterThan(assumed);
        } finally {
            sts.lifetime(Duration.ofHours(1));
        }
    }

    @Test
    void killedMidUploadEveryEventArrivesAfterTheRestartAsOneObjectEach() throws Exception {
        java.nio.file.Path dataDir = RunningService.newDataDir("s3-crash");
        Map<String, String> ownCredentials = Map.of(
                "auditstream.s3.endpoint", s3.endpoint().toString(),
                "auditstream.s3.assume-role", "false",
                "auditstream.aws.access-key-id", S3ProxyServer.IDENTITY,
                "auditstream.aws.secret-access-key", S3ProxyServer.CREDENTIAL,
                "auditstream.delivery.poll-interval", "100",
                "auditstream.delivery.lease", "PT3S");
        String org;
        String streamId;
        try (RunningService first = RunningService.start(dataDir, ownCredentials)) {
            org = first.createOrganization("Crash Upload Org");
            StreamApi api = new StreamApi(first);
            streamId = api.create(org, "S3", "{\"bucketName\":\"" + BUCKET + "\",\"bucketPath\":\"crash\"}")
                    .get("id").asText();
            api.patch(streamId, "{\"state\":\"inactive\"}");
            new EventSender(first.uri("/audit_logs/events"), org).run(8, 250);
        }
        Map<String, String> env = new java.util.HashMap<>();
        ownCredentials.forEach((k, v) -> env.put(k.toUpperCase().replace('.', '_').replace('-', '_'), v));
        try (ChildService child = ChildService.start(dataDir, "s3-crashing", env)) {
            var resumed = child.patch("/log_streams/" + streamId, "{\"state\":\"active\"}");
            assertThat(resumed.statusCode()).isEqualTo(200);
            while (s3.keys(BUCKET).stream().filter(k -> k.startsWith("crash/")).count() < 300) {
                Thread.sleep(5);
            }
            child.kill();
        }
        assertThat(s3.keys(BUCKET).stream().filter(k -> k.startsWith("crash/")).count()).isLessThan(2000);

        try (RunningService restarted = RunningService.start(dataDir, ownCredentials)) {
            awaitKeys(BUCKET, "crash/", 2000);
            Thread.sleep(500);
            // a retried batch writes the same keys again: overwrites, never a second object
            assertThat(s3.keys(BUCKET).stream().filter(k -> k.startsWith("crash/"))).hasSize(2000);
        }
    }

    @Test
    void aFullSizeServiceAccountKeyIsExchangedForTokensThatAreRefreshedAndObjectsLandWithExactNamesAndBytes()
            throws Exception {
        gcs.tokenLifetime(Duration.ofSeconds(2));
        LoopbackGcs.Account account = gcs.newAccount("audit-writer");
        assertThat(account.keyJson().length()).isGreaterThan(2200);
        String org = service.createOrganization("GCS Org");
        JsonNode stream = gcsStream(org, "gcs-bucket", "audit", account);
        assertThat(stream.at("/config/serviceAccountKey").asText()).startsWith("••••");
        List<String> sent = streams.send(org, "gcs", 2);
        Map<String, String> objects = awaitObjects("gcs-bucket", "audit/", 2);
        for (String action : sent) {
            String event = service.storedEvent(action);
            JsonNode json = TestJson.read(event);
            String name = objects.keySet().stream().filter(n -> objects.get(n).contains(json.get("id").asText()))
                    .findFirst().orElseThrow();
            assertThat(name).matches("audit/" + acceptedAt(json.get("id").asText()) + "_[0-9a-f]{12}\\.json");
            assertThat(objects.get(name))
                    .isEqualTo(TestJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(json));
        }
        int issued = gcs.tokensIssued();
        assertThat(issued).isPositive();

        // the tokens live 2 s and the receiver refuses expired ones: the next upload needs a new token
        Thread.sleep(2500);
        streams.send(org, "gcs-later", 1);
        awaitObjects("gcs-bucket", "audit/", 3);
        assertThat(gcs.tokensIssued()).isGreaterThan(issued);
        assertThat(streams.get(stream.get("id").asText()).get("state").asText()).isEqualTo("active");
    }

    @Test
    void aRefusedTokenMakesTheStreamInvalidWithItsReason() throws Exception {
        LoopbackGcs.Account account = gcs.newAccount("deleted-writer");
        String org = service.createOrganization("GCS Revoked Org");
        String id = gcsStream(org, "gcs-bucket", "revoked", account).get("id").asText();
        gcs.revoke(account.email());
        streams.send(org, "revoked", 1);
        JsonNode invalid = streams.awaitStream(id, inState("invalid"), WAIT);
        assertThat(invalid.get("state_reason").asText()).startsWith("Cloud Storage 401: the service account's access token was refused");
        assertThat(gcs.objects("gcs-bucket", "revoked/")).isEmpty();

        LoopbackGcs.Account deleted = gcs.newAccount("deleted-account");
        String orgOfDeleted = service.createOrganization("GCS Deleted Account Org");
        String refused = gcsStream(orgOfDeleted, "gcs-bucket", "deleted", deleted).get("id").asText();
        gcs.delete(deleted.email());
        streams.send(orgOfDeleted, "deleted", 1);
        assertThat(streams.awaitStream(refused, inState("invalid"), WAIT).get("state_reason").asText())
                .startsWith("Google's token endpoint refused the service account key (400)").contains("invalid_grant");
    }

    @Test
    void malformedServiceAccountKeysAreRefusedWhenTheStreamIsConfigured() throws Exception {
        String org = service.createOrganization("GCS Bad Keys Org");
        String good = gcs.newAccount("checked-writer").keyJson();
        JsonNode key = TestJson.read(good);
        Map<String, String> bad = Map.of(
                "{not json", "is not JSON",
                good.replace("service_account", "authorized_user"), "must be a service account key file",
                ((com.fasterxml.jackson.databind.node.ObjectNode) key.deepCopy()).without("client_email").toString(),
                "has no client_email",
                ((com.fasterxml.jackson.databind.node.ObjectNode) key.deepCopy()).without("token_uri").toString(),
                "has no token_uri",
                ((com.fasterxml.jackson.databind.node.ObjectNode) key.deepCopy())
                        .put("token_uri", "https://attacker.example/token").toString(), "token_uri that is not Google's",
                ((com.fasterxml.jackson.databind.node.ObjectNode) key.deepCopy()).put("private_key",
                        "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n").toString(),
                "not a PEM-encoded RSA private key");
        for (Map.Entry<String, String> entry : bad.entrySet()) {
            var response = service.post("/log_streams", "{\"organization_id\":\"" + org + "\",\"type\":"
                    + "\"GoogleCloudStorage\",\"config\":{\"bucketName\":\"gcs-bucket\",\"serviceAccountKey\":"
                    + TestJson.MAPPER.writeValueAsString(entry.getKey()) + "}}");
            assertThat(response.statusCode()).as(entry.getValue()).isEqualTo(422);
            JsonNode error = TestJson.read(response.body()).at("/errors/0");
            assertThat(error.get("field").asText()).isEqualTo("config.serviceAccountKey");
            assertThat(error.get("message").asText()).contains(entry.getValue()).doesNotContain("MII");
        }
    }

    @Test
    void aRetriedUploadIntoARetentionLockedBucketFindsItsObjectsAndOnlyOtherContentStopsTheStream() throws Exception {
        gcs.lock("locked-bucket");
        LoopbackGcs.Account account = gcs.newAccount("locked-writer");
        String org = service.createOrganization("GCS Locked Org");
        String id = gcsStream(org, "locked-bucket", "kept", account).get("id").asText();
        java.time.Instant before = java.time.Instant.now().minusSeconds(1);
        streams.send(org, "kept", 2);
        Map<String, String> first = awaitObjects("locked-bucket", "kept/", 2);

        // a replay uploads the same objects again: the bucket refuses (403) and they are found written
        replay(id, before);
        streams.send(org, "kept-after", 1);
        awaitObjects("locked-bucket", "kept/", 3);
        assertThat(gcs.calls()).filteredOn(c -> c.path().startsWith("/upload/storage/v1/b/locked-bucket/"))
                .filteredOn(c -> c.status() == 403).hasSizeGreaterThanOrEqualTo(2);
        assertThat(streams.get(id).get("state").asText()).isEqualTo("active");
        assertThat(gcs.objects("locked-bucket", "kept/")).containsAllEntriesOf(first);

        caughtUp(id);
        String taken = first.keySet().iterator().next();
        gcs.put("locked-bucket", taken, "{\"written\":\"by someone else\"}".getBytes(StandardCharsets.UTF_8));
        assertThat(service.post("/log_streams/" + id + "/replay", "{\"from\":\"" + before + "\"}").statusCode())
                .isEqualTo(202);
        JsonNode invalid = streams.awaitStream(id, inState("invalid"), WAIT);
        assertThat(invalid.get("state_reason").asText()).contains("Object " + taken + " in bucket locked-bucket holds "
                + "other content than this event and the bucket refuses to replace it (403)");
    }

    @Test
    void aRetriedS3UploadMeetsItsIfNoneMatchConditionAndOnlyOtherContentStopsTheStream() throws Exception {
        String org = service.createOrganization("S3 Precondition Org");
        String id = s3Stream(org, "audit-writer", BUCKET, "create-once").get("id").asText();
        java.time.Instant before = java.time.Instant.now().minusSeconds(1);
        streams.send(org, "once", 2);
        awaitKeys(BUCKET, "create-once/", 2);

        replay(id, before);
        streams.send(org, "once-after", 1);
        awaitKeys(BUCKET, "create-once/", 3);
        assertThat(streams.get(id).get("state").asText()).isEqualTo("active");

        caughtUp(id);
        String taken = s3.keys(BUCKET).stream().filter(k -> k.startsWith("create-once/")).findFirst().orElseThrow();
        s3.store().putBlob(BUCKET, s3.store().blobBuilder(taken).payload("{\"other\":true}").build());
        assertThat(service.post("/log_streams/" + id + "/replay", "{\"from\":\"" + before + "\"}").statusCode())
                .isEqualTo(202);
        JsonNode invalid = streams.awaitStream(id, inState("invalid"), WAIT);
        assertThat(invalid.get("state_reason").asText()).contains("Object " + taken + " in bucket " + BUCKET
                + " holds other content than this event and the bucket refuses to replace it (412)");
    }

    /** Replays once the stream has caught up, so the replay does not race a drain's cursor advance. */
    private static void replay(String id, java.time.Instant from) throws Exception {
        caughtUp(id);
        assertThat(service.post("/log_streams/" + id + "/replay", "{\"from\":\"" + from + "\"}").statusCode())
                .isEqualTo(202);
    }

    private static void caughtUp(String id) throws Exception {
        streams.awaitStream(id, s -> s.get("lag").asLong() == 0 && !s.get("last_synced_at").isNull(), WAIT);
    }

    private static JsonNode gcsStream(String org, String bucket, String path, LoopbackGcs.Account account)
            throws Exception {
        return streams.create(org, "GoogleCloudStorage", "{\"bucketName\":\"" + bucket + "\",\"bucketPath\":\""
                + path + "\",\"serviceAccountKey\":" + TestJson.MAPPER.writeValueAsString(account.keyJson()) + "}");
    }

    private static Map<String, String> awaitObjects(String bucket, String prefix, int count) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (gcs.objects(bucket, prefix).size() < count && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        Map<String, String> objects = gcs.objects(bucket, prefix);
        assertThat(objects).hasSize(count);
        return objects;
    }

    @Test
    void googleCloudStorageHmacKeysGoThroughTheS3CompatibleApi() throws Exception {
        String org = service.createOrganization("GCS HMAC Org");
        streams.create(org, "GoogleCloudStorage", "{\"bucketName\":\"gcs-hmac-bucket\",\"accessKeyId\":\""
                + S3ProxyServer.IDENTITY + "\",\"secretAccessKey\":\"" + S3ProxyServer.CREDENTIAL + "\"}");
        streams.send(org, "hmac", 2);
        awaitKeys("gcs-hmac-bucket", "", 2);
        assertThat(s3.keys("gcs-hmac-bucket")).allMatch(k -> k.matches("\\d{4}-\\d{2}-\\d{2}T[^/]+Z_[0-9a-f]{12}\\.json"));
    }

    private static void awaitKeys(String bucket, String prefix, int count) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (s3.keys(bucket).stream().filter(k -> k.startsWith(prefix)).count() < count
                && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(s3.keys(bucket).stream().filter(k -> k.startsWith(prefix))).hasSize(count);
    }

    /** The accept time the service used for the event's key: the timestamp of its ULID. */
    private static String acceptedAt(String ulid) {
        String alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        long millis = 0;
        for (char c : ulid.substring(0, 10).toCharArray()) {
            millis = millis * 32 + alphabet.indexOf(c);
        }
        return dev.auditstream.api.Timestamps.iso(java.time.Instant.ofEpochMilli(millis));
    }
}
