package dev.auditstream.stores;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.domain.PageSet;
import org.jclouds.blobstore.domain.StorageMetadata;
import org.jclouds.blobstore.options.ListContainerOptions;

/**
 * A real S3 HTTP server in this JVM (s3proxy on jclouds' in-memory blob store), checking AWS v4 signatures and
 * Content-MD5. Can be stopped and started again on the same port with the same contents, like a server restart.
 */
public final class S3ProxyServer implements AutoCloseable {

    public static final String IDENTITY = "s3proxy-access-key";
    public static final String CREDENTIAL = "s3proxy-secret-key";

    private final BlobStoreContext blobs;
    private S3Proxy proxy;
    private int port;

    private S3ProxyServer(BlobStoreContext blobs) {
        this.blobs = blobs;
    }

    public static S3ProxyServer start(String... buckets) throws Exception {
        BlobStoreContext blobs = ContextBuilder.newBuilder("transient").credentials("unused", "unused")
                .build(BlobStoreContext.class);
        for (String bucket : buckets) {
            blobs.getBlobStore().createContainerInLocation(null, bucket);
        }
        S3ProxyServer server = new S3ProxyServer(blobs);
        server.listen(0);
        return server;
    }

    private void listen(int onPort) throws Exception {
        proxy = S3Proxy.builder()
                .blobStore(blobs.getBlobStore())
                .endpoint(URI.create("http://127.0.0.1:" + onPort))
                .awsAuthentication(AuthenticationType.AWS_V4, IDENTITY, CREDENTIAL)
                // STS session credentials add x-amz-security-token, which s3proxy otherwise answers with 501
                .ignoreUnknownHeaders(true)
                .build();
        proxy.start();
        while (!"STARTED".equals(proxy.getState())) {
            Thread.sleep(10);
        }
        port = proxy.getPort();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** Connections are refused until {@link #restart()}. */
    public void stop() throws Exception {
        proxy.stop();
    }

    public void restart() throws Exception {
        listen(port);
    }

    public BlobStore store() {
        return blobs.getBlobStore();
    }

    /** Every key in the bucket (listings come in pages of 1,000). */
    public List<String> keys(String bucket) {
        List<String> keys = new ArrayList<>();
        String marker = null;
        do {
            ListContainerOptions options = ListContainerOptions.Builder.recursive();
            if (marker != null) {
                options.afterMarker(marker);
            }
            PageSet<? extends StorageMetadata> page = store().list(bucket, options);
            page.stream().map(StorageMetadata::getName).filter(name -> !name.endsWith("/")).forEach(keys::add);
            marker = page.getNextMarker();
        } while (marker != null);
        keys.sort(null);
        return keys;
    }

    public String content(String bucket, String key) throws Exception {
        try (var in = store().getBlob(bucket, key).getPayload().openStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() throws Exception {
        proxy.stop();
        blobs.close();
    }
}
