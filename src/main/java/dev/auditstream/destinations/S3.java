package dev.auditstream.destinations;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.camel.CamelContext;
import org.apache.camel.Message;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.StsClientBuilder;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;
import software.amazon.awssdk.services.sts.model.AssumeRoleRequest;

/**
 * AWS S3 through camel-aws2-s3: one pretty-printed object per event under
 * {@code [bucketPath/]YYYY-MM-DD/{timestamp}_{keySuffix}.json}, each PUT with Content-MD5. The service never holds
 * the customer's keys: it assumes {@code arn:aws:iam::{accountId}:role/{roleName}} with the stream's own external ID,
 * through STS, with credentials that refresh before they expire.
 */
public final class S3 implements ObjectStoreDestination {

    private static final Pattern ACCOUNT_ID = Pattern.compile("\\d{12}");
    private static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-\\d");
    private static final Pattern ROLE_NAME = Pattern.compile("[\\w+=,.@-]{1,64}");
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    /** How this installation reaches S3: endpoints, its own credentials, and whether it assumes customers' roles. */
    public record Settings(String trustPrincipal, boolean assumeRole, URI s3Endpoint, URI stsEndpoint,
                           String accessKeyId, String secretAccessKey) {
    }

    private final Settings settings;
    private final StreamClients<S3Client> clients;

    public S3(CamelContext context, Settings settings) {
        this.settings = settings;
        this.clients = new StreamClients<>(context, "s3Client");
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
    public String endpointUri(DeliveryTarget target) {
        return clients.endpoint(target, this::client, S3::endpointUri);
    }

    /**
     * The endpoint of the stream's client, named by its registry name only: the customer's bucket is no part of an
     * endpoint URI, it goes with each upload (see {@link #s3Headers}).
     */
    static String endpointUri(String clientName) {
        return "aws2-s3://" + clientName + "?amazonS3Client=#" + clientName + "&autoCreateBucket=false";
    }

    @Override
    public void headers(Message message, EventObjects object, DeliveryTarget target) {
        s3Headers(message, object, target);
    }

    static void s3Headers(Message message, EventObjects object, DeliveryTarget target) {
        message.setHeader(AWS2S3Constants.OVERRIDE_BUCKET_NAME, target.text("bucketName", ""));
        message.setHeader(AWS2S3Constants.KEY, object.key());
        message.setHeader(AWS2S3Constants.CONTENT_MD5, object.contentMd5());
        message.setHeader(AWS2S3Constants.CONTENT_TYPE, "application/json");
        message.setHeader(AWS2S3Constants.CONTENT_LENGTH, (long) object.body().length);
    }

    /** Names the stream's role and external ID where AssumeRole was refused. */
    @Override
    public Failure classify(Throwable failure, DeliveryTarget target) {
        return AwsFailures.classify(failure, roleArn(target), target.text("externalId", ""));
    }

    private S3Client client(DeliveryTarget target) {
        Region region = Region.of(target.text("region", "us-east-1"));
        AwsCredentialsProvider own = ownCredentials();
        AwsCredentialsProvider credentials = own;
        if (settings.assumeRole()) {
            StsClientBuilder sts = StsClient.builder().region(region).credentialsProvider(own);
            if (settings.stsEndpoint() != null) {
                sts.endpointOverride(settings.stsEndpoint());
            }
            credentials = StsAssumeRoleCredentialsProvider.builder()
                    .stsClient(sts.build())
                    .refreshRequest(AssumeRoleRequest.builder()
                            .roleArn(roleArn(target))
                            .externalId(target.text("externalId", ""))
                            .roleSessionName(("auditstream-" + target.streamId()).substring(0,
                                    Math.min(64, ("auditstream-" + target.streamId()).length())))
                            .build())
                    .build();
        }
        return builder(region, credentials, settings.s3Endpoint()).build();
    }

    /** An S3 client as every S3-compatible store accepts it: checksums only where required, path-style overrides. */
    static S3ClientBuilder builder(Region region, AwsCredentialsProvider credentials, URI endpoint) {
        S3ClientBuilder builder = S3Client.builder()
                .region(region)
                .credentialsProvider(credentials)
                // SDK >= 2.30 adds CRC32 trailers by default, which S3-compatible stores (GCS, MinIO, s3proxy) refuse
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        if (endpoint != null) {
            builder.endpointOverride(endpoint).forcePathStyle(true);
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
