package dev.auditstream.destinations;

import java.net.URI;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.StsClientBuilder;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;
import software.amazon.awssdk.services.sts.model.AssumeRoleRequest;

/**
 * AWS S3: one pretty-printed object per event under {@code [bucketPath/]YYYY-MM-DD/{timestamp}_{keySuffix}.json},
 * each PUT with Content-MD5 and {@code If-None-Match: *} (the AWS SDK's client; camel-aws2-s3 cannot send the
 * condition). The service never holds
 * the customer's keys: it assumes {@code arn:aws:iam::{accountId}:role/{roleName}} with the stream's own external ID,
 * through STS, with credentials that refresh before they expire.
 */
public final class S3 implements ObjectStoreDestination {

    private static final Pattern ACCOUNT_ID = Pattern.compile("\\d{12}");
    private static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-\\d");
    private static final Pattern ROLE_NAME = Pattern.compile("[\\w+=,.@-]{1,64}");
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    /**
     * How this installation reaches S3: endpoints, its own credentials, whether it assumes customers' roles, and the
     * egress proxy (null: direct).
     */
    public record Settings(String trustPrincipal, boolean assumeRole, URI s3Endpoint, URI stsEndpoint,
                           String accessKeyId, String secretAccessKey, StoreClientProxy proxy) {
    }

    /** A stream's S3 client and the STS client its assumed-role credentials refresh with (null without one). */
    record Clients(S3Client s3, StsClient sts) implements AutoCloseable {
        @Override
        public void close() {
            s3.close();
            if (sts != null) {
                sts.close();
            }
        }
    }

    private final Settings settings;
    private final StreamClients<Clients> clients = new StreamClients<>();

    public S3(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String type() {
        return "S3";
    }

    @Override
    public List<String> secretPointers() {
        return List.of();
    }

    @Override
    public Map<String, String> generate() {
        return Map.of("externalId", "auditstream-" + UUID.randomUUID(),
                "trustPrincipal", settings.trustPrincipal() == null ? "" : settings.trustPrincipal());
    }

    /** The role's trust policy and the bucket permissions policy, ready to paste into AWS. */
    @Override
    public ObjectNode setup(JsonNode config) {
        ObjectNode setup = S3Setup.of(config.path("trustPrincipal").asText(), config.path("externalId").asText(),
                config.path("bucketName").asText("<bucket>"), config.path("bucketPath").asText(null));
        setup.put("role_arn", "arn:aws:iam::" + config.path("accountId").asText("<accountId>") + ":role/"
                + config.path("roleName").asText("<roleName>"));
        return setup;
    }

    @Override
    public List<String> check(ObjectNode config, ConfigChecks checks) {
        checks.unknownMembers(config, Set.of("accountId", "region", "roleName", "bucketName", "bucketPath",
                "externalId", "trustPrincipal"), "");
        List<String> missing = new ArrayList<>();
        matching(config, "accountId", ACCOUNT_ID, "a 12-digit AWS account ID", checks, missing);
        matching(config, "region", REGION, "an AWS region such as us-east-1", checks, null);
        if (settings.assumeRole()) {
            matching(config, "roleName", ROLE_NAME, "an IAM role name", checks, missing);
        } else {
            checks.string(config, "roleName", "roleName");
            missing.remove("accountId");
        }
        matching(config, "bucketName", BUCKET, "an S3 bucket name", checks, missing);
        checks.string(config, "bucketPath", "bucketPath");
        return missing;
    }

    static void matching(ObjectNode config, String member, Pattern pattern, String what, ConfigChecks checks,
                         List<String> missing) {
        String value = checks.string(config, member, member);
        if (value == null) {
            if (missing != null) {
                missing.add(member);
            }
        } else if (!pattern.matcher(value).matches()) {
            checks.add(member, "invalid", "config." + member + " must be " + what + ".");
        }
    }

    @Override
    public EventObjects object(DeliveryTarget target, StoredEvent event) {
        return EventObjects.of(target.streamId(), event, target.text("bucketPath", null), true);
    }

    @Override
    public void upload(DeliveryTarget target, EventObjects object) {
        put(clients.client(target, this::clients).s3(), target.text("bucketName", ""), object,
                request -> request.ifNoneMatch("*"));
    }

    @Override
    public void forget(String streamId) {
        clients.evict(streamId);
    }

    /**
     * Writes the object with Content-MD5 and the store's create-if-absent condition. A refusal because the key is
     * taken (412 precondition, 409 conflicting write, 403 from a bucket that will not replace objects) passes when
     * the stored object has the same MD5: an earlier attempt wrote it. So does a PUT cut off on the wire (a store may
     * answer "already there" before the body and close the connection, or write the object and lose the answer).
     */
    static void put(S3Client s3, String bucket, EventObjects object, Consumer<PutObjectRequest.Builder> ifAbsent) {
        try {
            s3.putObject(request -> ifAbsent.accept(request.bucket(bucket).key(object.key())
                            .contentMD5(object.contentMd5()).contentType("application/json")
                            .contentLength((long) object.body().length)),
                    RequestBody.fromBytes(object.body()));
        } catch (SdkClientException cut) {
            String stored;
            try {
                stored = storedMd5(s3, bucket, object.key());
            } catch (RuntimeException unreadable) {
                cut.addSuppressed(unreadable);
                throw cut;
            }
            if (!object.contentMd5().equals(stored)) {
                throw cut;
            }
        } catch (S3Exception refused) {
            int status = refused.statusCode();
            if (status != 412 && status != 409 && status != 403) {
                throw refused;
            }
            String stored;
            try {
                stored = storedMd5(s3, bucket, object.key());
            } catch (S3Exception unreadable) {
                refused.addSuppressed(unreadable);
                // a 403 that cannot be looked into is most likely the credentials: the refusal says it best
                throw status == 403 ? refused : new ObjectConflictException("Object " + object.key()
                        + " is already in bucket " + bucket + " and cannot be read to compare (" + unreadable.statusCode()
                        + "): allow this service s3:GetObject on its objects, so a retried upload can confirm what it "
                        + "wrote.", refused);
            }
            if (object.contentMd5().equals(stored)) {
                return;
            }
            if (stored == null) {
                throw refused;
            }
            throw new ObjectConflictException("Object " + object.key() + " in bucket " + bucket + " holds other content "
                    + "than this event and the bucket refuses to replace it (" + status + "): remove that object or "
                    + "give the stream another bucketPath.", refused);
        }
    }

    /** The stored object's MD5 (base64), or null when there is none: its ETag, or its bytes' where that is no MD5. */
    private static String storedMd5(S3Client s3, String bucket, String key) {
        HeadObjectResponse head;
        try {
            head = s3.headObject(request -> request.bucket(bucket).key(key));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return null;
            }
            throw e;
        }
        String etag = head.eTag() == null ? "" : head.eTag().replace("\"", "");
        if (etag.matches("[0-9a-fA-F]{32}")) {
            return Base64.getEncoder().encodeToString(HexFormat.of().parseHex(etag));
        }
        // multipart or SSE-KMS: the ETag is no MD5
        byte[] bytes = s3.getObjectAsBytes(request -> request.bucket(bucket).key(key)).asByteArray();
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Names the stream's role and external ID where AssumeRole was refused. */
    @Override
    public Failure classify(Throwable failure, DeliveryTarget target) {
        Failure conflict = ObjectConflictException.in(failure);
        return conflict != null ? conflict : AwsFailures.classify(failure, roleArn(target), target.text("externalId", ""));
    }

    private Clients clients(DeliveryTarget target) {
        Region region = Region.of(target.text("region", "us-east-1"));
        AwsCredentialsProvider own = ownCredentials();
        AwsCredentialsProvider credentials = own;
        StsClient sts = null;
        if (settings.assumeRole()) {
            StsClientBuilder stsBuilder = StsClient.builder().region(region).credentialsProvider(own);
            if (settings.proxy() != null) {
                stsBuilder.httpClientBuilder(StoreClientProxy.awsHttpClient(settings.proxy()));
            }
            if (settings.stsEndpoint() != null) {
                stsBuilder.endpointOverride(settings.stsEndpoint());
            }
            sts = stsBuilder.build();
            credentials = StsAssumeRoleCredentialsProvider.builder()
                    .stsClient(sts)
                    .refreshRequest(AssumeRoleRequest.builder()
                            .roleArn(roleArn(target))
                            .externalId(target.text("externalId", ""))
                            .roleSessionName(("auditstream-" + target.streamId()).substring(0,
                                    Math.min(64, ("auditstream-" + target.streamId()).length())))
                            .build())
                    .build();
        }
        return new Clients(builder(region, credentials, settings.s3Endpoint(), settings.proxy()).build(), sts);
    }

    /**
     * An S3 client as every S3-compatible store accepts it: checksums only where required, path-style overrides;
     * through the egress proxy when there is one.
     */
    static S3ClientBuilder builder(Region region, AwsCredentialsProvider credentials, URI endpoint,
                                   StoreClientProxy proxy) {
        S3ClientBuilder builder = S3Client.builder()
                .region(region)
                .credentialsProvider(credentials)
                // SDK >= 2.30 adds CRC32 trailers by default, which S3-compatible stores (GCS, MinIO, s3proxy) refuse
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        if (endpoint != null) {
            builder.endpointOverride(endpoint).forcePathStyle(true);
        }
        if (proxy != null) {
            builder.httpClientBuilder(StoreClientProxy.awsHttpClient(proxy));
        }
        return builder;
    }

    private AwsCredentialsProvider ownCredentials() {
        if (settings.accessKeyId() != null && settings.secretAccessKey() != null) {
            return StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(settings.accessKeyId(), settings.secretAccessKey()));
        }
        return DefaultCredentialsProvider.builder().build();
    }

    private static String roleArn(DeliveryTarget target) {
        return "arn:aws:iam::" + target.text("accountId", "") + ":role/" + target.text("roleName", "");
    }
}
