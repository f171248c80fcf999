package dev.auditstream.destinations;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.api.client.http.HttpResponseException;
import com.google.api.client.http.HttpTransport;
import com.google.auth.http.HttpTransportFactory;
import com.google.auth.oauth2.ServiceAccountCredentials;
import com.google.cloud.BaseServiceException;
import com.google.cloud.storage.Blob;
import com.google.cloud.storage.BlobId;
import com.google.cloud.storage.BlobInfo;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageException;
import com.google.cloud.http.HttpTransportOptions;
import com.google.cloud.storage.StorageOptions;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

import dev.auditstream.api.Json;

/**
 * Google Cloud Storage: one pretty-printed object per event under {@code [bucketPath/]{timestamp}_{keySuffix}.json},
 * created only where absent ({@code ifGenerationMatch=0}), with a service-account key through Google's client (one
 * multipart upload per object; camel-google-storage cannot send the condition), or with HMAC keys through GCS's
 * S3-compatible XML API.
 */
public final class GoogleCloudStorage implements ObjectStoreDestination {

    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]");
    private static final URI XML_API = URI.create("https://storage.googleapis.com");

    /** Builds the Storage client for a service-account key (tests give Google's in-memory Storage instead). */
    public interface StorageFactory {
        Storage create(String serviceAccountKeyJson);
    }

    private final StorageFactory storage;
    private final URI xmlEndpoint;
    private final StoreClientProxy proxy;
    private final StreamClients<AutoCloseable> clients = new StreamClients<>();

    /**
     * @param xmlEndpoint replaces Google's S3-compatible XML API (tests, emulators); null for the real service
     * @param proxy the egress proxy HMAC-key uploads go through (null: direct)
     */
    public GoogleCloudStorage(StorageFactory storage, URI xmlEndpoint, StoreClientProxy proxy) {
        this.storage = storage;
        this.xmlEndpoint = xmlEndpoint;
        this.proxy = proxy;
    }

    /**
     * Google's own client for a key, at {@code endpoint} when one is set, exchanging the key for tokens at
     * {@code tokenUri} when one is set (both operator settings, never taken from a stream's config); uploads and
     * token requests through the egress proxy when there is one.
     */
    public static StorageFactory googleStorage(URI endpoint, URI tokenUri, StoreClientProxy proxy) {
        HttpTransportFactory transport = proxy == null ? null : singleton(proxy.googleTransport());
        return key -> {
            try {
                ServiceAccountCredentials credentials = ServiceAccountKeys.credentials(key, tokenUri);
                StorageOptions.Builder options = StorageOptions.newBuilder();
                if (transport != null) {
                    credentials = credentials.toBuilder().setHttpTransportFactory(transport).build();
                    options.setTransportOptions(HttpTransportOptions.newBuilder().setHttpTransportFactory(transport)
                            .build());
                }
                options.setCredentials(credentials);
                if (endpoint != null) {
                    options.setHost(endpoint.toString());
                }
                return options.build().getService();
            } catch (IOException e) {
                throw new UncheckedIOException("The service account key cannot be read", e);
            }
        };
    }

    private static HttpTransportFactory singleton(HttpTransport transport) {
        return () -> transport;
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
            // Google's library posts the signed token request to the key's token_uri: Google's, unless private
            // destinations are allowed
            String problem = ServiceAccountKeys.problem(key, checks.allowPrivate());
            if (problem != null) {
                checks.add("serviceAccountKey", "invalid", "config.serviceAccountKey " + problem);
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
    public void upload(DeliveryTarget target, EventObjects object) {
        String bucket = target.text("bucketName", "");
        AutoCloseable client = clients.client(target, t -> hmac(t)
                ? new S3.Clients(S3.builder(Region.of("auto"), StaticCredentialsProvider.create(AwsBasicCredentials
                        .create(t.text("accessKeyId", ""), t.text("secretAccessKey", ""))),
                        xmlEndpoint != null ? xmlEndpoint : XML_API, proxy).build(), null)
                : storage.create(t.text("serviceAccountKey", "")));
        if (client instanceof S3.Clients xml) {
            // the XML API's create-if-absent condition
            S3.put(xml.s3(), bucket, object, request -> request.overrideConfiguration(
                    o -> o.putHeader("x-goog-if-generation-match", "0")));
        } else {
            create((Storage) client, bucket, object);
        }
    }

    /**
     * Creates the object if absent. A refusal because it exists (412 from the condition, 403 from a retention policy)
     * passes when the stored object has the same MD5: an earlier attempt wrote it.
     */
    private static void create(Storage storage, String bucket, EventObjects object) {
        // Google's client sends the body's MD5 and CRC32C with it, for the service to check
        BlobInfo info = BlobInfo.newBuilder(bucket, object.key()).setContentType("application/json").build();
        try {
            storage.create(info, object.body(), Storage.BlobTargetOption.doesNotExist());
        } catch (StorageException refused) {
            if (refused.getCode() != 412 && refused.getCode() != 403) {
                throw refused;
            }
            Blob stored;
            try {
                stored = storage.get(BlobId.of(bucket, object.key()));
            } catch (StorageException unreadable) {
                refused.addSuppressed(unreadable);
                // a 403 that cannot be looked into is most likely the credentials: the refusal says it best
                throw refused.getCode() == 403 ? refused : new ObjectConflictException("Object " + object.key()
                        + " is already in bucket " + bucket + " and cannot be read to compare ("
                        + unreadable.getCode() + "): grant the service account storage.objects.get on the bucket "
                        + "(roles/storage.objectViewer), so a retried upload can confirm what it wrote.", refused);
            }
            if (stored != null && object.contentMd5().equals(stored.getMd5())) {
                return;
            }
            if (stored == null) {
                throw refused;
            }
            throw new ObjectConflictException("Object " + object.key() + " in bucket " + bucket + " holds other "
                    + "content than this event and the bucket refuses to replace it (" + refused.getCode() + "): "
                    + "remove that object or give the stream another bucketPath.", refused);
        }
    }

    @Override
    public void forget(String streamId) {
        clients.evict(streamId);
    }

    @Override
    public Failure classify(Throwable failure, DeliveryTarget target) {
        Failure conflict = ObjectConflictException.in(failure);
        if (conflict != null) {
            return conflict;
        }
        if (hmac(target)) {
            return AwsFailures.classify(failure, null, null);
        }
        for (Throwable t = failure; t != null && t.getCause() != null; t = t.getCause()) {
            // Google's auth library wraps the token endpoint's answer to the key's signed grant: invalid_grant (a
            // deleted or disabled key or account) only the customer can fix; busy answers pass
            if (t.getClass().getPackageName().equals("com.google.auth.oauth2")
                    && t.getCause() instanceof HttpResponseException token) {
                int status = token.getStatusCode();
                return new Failure(status == 429 || status >= 500 ? Failure.Kind.RETRY : Failure.Kind.INVALID, status,
                        "Google's token endpoint refused the service account key (" + status + "): "
                                + ConfigChecks.abbreviate(token.getContent()), 0, 0);
            }
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof BaseServiceException google) {
                int status = google.getCode();
                String message = "Cloud Storage " + status + ": " + (status == 401
                        ? "the service account's access token was refused: has the key or the account been deleted "
                                + "or disabled? "
                        : status == 403 ? "the service account may not write to bucket " + target.text("bucketName", "")
                                + " (it needs roles/storage.objectCreator on it). "
                        : "") + ConfigChecks.abbreviate(google.getMessage());
                Failure.Kind kind = status == 401 || status == 403 || status == 404 ? Failure.Kind.INVALID
                        : status == 0 ? Failure.Kind.RETRY : Failure.kindOf(status);
                return new Failure(kind, status == 0 ? null : status, message, 0, 0);
            }
        }
        return null;
    }
}
