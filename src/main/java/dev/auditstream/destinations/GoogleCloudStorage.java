package dev.auditstream.destinations;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.auth.oauth2.ServiceAccountCredentials;
import com.google.cloud.BaseServiceException;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageOptions;
import org.apache.camel.CamelContext;
import org.apache.camel.Message;
import org.apache.camel.component.google.storage.GoogleCloudStorageConstants;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

import dev.auditstream.api.Json;

/**
 * Google Cloud Storage: one pretty-printed object per event under {@code [bucketPath/]{timestamp}_{keySuffix}.json},
 * written with a service-account key through camel-google-storage, or with HMAC keys through GCS's S3-compatible XML
 * API and camel-aws2-s3.
 */
public final class GoogleCloudStorage implements ObjectStoreDestination {

    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]");
    private static final URI XML_API = URI.create("https://storage.googleapis.com");
    /** Google's OAuth token endpoint, and its older address that keys made before 2019 name. */
    private static final List<String> TOKEN_URIS = List.of("https://oauth2.googleapis.com/token",
            "https://accounts.google.com/o/oauth2/token");

    /** Builds the Storage client for a service-account key (tests give Google's in-memory Storage instead). */
    public interface StorageFactory {
        Storage create(String serviceAccountKeyJson);
    }

    private final StorageFactory storage;
    private final URI endpoint;
    private final StreamClients<AutoCloseable> clients;

    /** @param endpoint replaces Google's endpoints (tests, emulators); null for the real service */
    public GoogleCloudStorage(CamelContext context, StorageFactory storage, URI endpoint) {
        this.storage = storage;
        this.endpoint = endpoint;
        this.clients = new StreamClients<>(context, "gcsClient");
    }

    /** Google's own client for a key, at {@code endpoint} when one is set. */
    public static StorageFactory googleStorage(URI endpoint) {
        return key -> {
            try {
                StorageOptions.Builder options = StorageOptions.newBuilder().setCredentials(
                        ServiceAccountCredentials.fromStream(new ByteArrayInputStream(key.getBytes(StandardCharsets.UTF_8))));
                if (endpoint != null) {
                    options.setHost(endpoint.toString());
                }
                return options.build().getService();
            } catch (IOException e) {
                throw new UncheckedIOException("The service account key cannot be read", e);
            }
        };
    }

    @Override
    public String type() {
        return "GoogleCloudStorage";
    }

    @Override
    public List<String> secretPointers() {
        return List.of("/serviceAccountKey", "/secretAccessKey");
    }

    @Override
    public List<String> check(ObjectNode config, ConfigChecks checks) {
        checks.unknownMembers(config, Set.of("bucketName", "bucketPath", "serviceAccountKey", "accessKeyId",
                "secretAccessKey"), "");
        List<String> missing = new ArrayList<>();
        S3.matching(config, "bucketName", BUCKET, "a Cloud Storage bucket name", checks, missing);
        checks.string(config, "bucketPath", "bucketPath");
        if (config.path("serviceAccountKey").isObject()) {
            // a key pasted as JSON rather than as a string of JSON
            config.put("serviceAccountKey", Json.write(config.get("serviceAccountKey")));
        }
        String key = checks.string(config, "serviceAccountKey", "serviceAccountKey");
        String accessKeyId = checks.string(config, "accessKeyId", "accessKeyId");
        String secret = checks.string(config, "secretAccessKey", "secretAccessKey");
        if (key != null && !key.startsWith("••••")) {
            JsonNode parsed = parse(key);
            if (!"service_account".equals(parsed.path("type").asText()) || !parsed.hasNonNull("client_email")
                    || !parsed.hasNonNull("private_key")) {
                checks.add("serviceAccountKey", "invalid", "config.serviceAccountKey must be a service account key "
                        + "file's JSON (type service_account, client_email, private_key).");
            }
            // Google's library posts the signed token request to the key's token_uri
            if (!checks.allowPrivate() && !TOKEN_URIS.contains(parsed.path("token_uri").asText(TOKEN_URIS.get(0)))) {
                checks.add("serviceAccountKey", "invalid", "config.serviceAccountKey's token_uri must be Google's, "
                        + TOKEN_URIS.get(0) + ".");
            }
        }
        if (key == null && (accessKeyId == null || secret == null)) {
            missing.add(accessKeyId == null && secret == null
                    ? "serviceAccountKey (or accessKeyId and secretAccessKey)"
                    : accessKeyId == null ? "accessKeyId" : "secretAccessKey");
        }
        return missing;
    }

    private boolean hmac(DeliveryTarget target) {
        return target.text("serviceAccountKey", null) == null;
    }

    @Override
    public EventObjects object(DeliveryTarget target, StoredEvent event) {
        return EventObjects.of(target.streamId(), event, target.text("bucketPath", null), false);
    }

    @Override
    public String endpointUri(DeliveryTarget target) {
        if (hmac(target)) {
            return clients.endpoint(target, t -> S3.builder(Region.of("auto"),
                            StaticCredentialsProvider.create(AwsBasicCredentials.create(t.text("accessKeyId", ""),
                                    t.text("secretAccessKey", ""))),
                            endpoint != null ? endpoint : XML_API).build(),
                    S3::endpointUri);
        }
        // named by the client's registry name; the bucket goes with each upload
        return clients.endpoint(target, t -> storage.create(t.text("serviceAccountKey", "")),
                name -> "google-storage://" + name + "?storageClient=#" + name + "&autoCreateBucket=false");
    }

    @Override
    public void headers(Message message, EventObjects object, DeliveryTarget target) {
        if (hmac(target)) {
            S3.s3Headers(message, object, target);
        } else {
            message.setHeader(GoogleCloudStorageConstants.OVERRIDE_BUCKET_NAME, target.text("bucketName", ""));
            message.setHeader(GoogleCloudStorageConstants.OBJECT_NAME, object.key());
            message.setHeader(GoogleCloudStorageConstants.CONTENT_TYPE, "application/json");
        }
    }

    @Override
    public Failure classify(Throwable failure, DeliveryTarget target) {
        if (hmac(target)) {
            return AwsFailures.classify(failure, null, null);
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof BaseServiceException google) {
                int status = google.getCode();
                String message = "Cloud Storage " + status + ": " + ConfigChecks.abbreviate(google.getMessage());
                Failure.Kind kind = status == 401 || status == 403 || status == 404 ? Failure.Kind.INVALID
                        : status == 0 ? Failure.Kind.RETRY : Failure.kindOf(status);
                return new Failure(kind, status == 0 ? null : status, message, 0, 0);
            }
        }
        return null;
    }

    private static JsonNode parse(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (IOException e) {
            return Json.MAPPER.createObjectNode();
        }
    }
}
