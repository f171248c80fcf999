package dev.auditstream.destinations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.net.URI;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A retried upload whose PUT the store cuts off on the wire (as a store may when it refuses an existing key before
 * reading the body, then closes the connection) counts as written when the object is there with the same MD5, and
 * fails as the cut when it is not: the batch is not failed over and over for objects an earlier attempt wrote.
 * The store is a loopback HTTP server that drops every PUT and answers HEAD with a chosen ETag.
 */
class S3CutUploadTest {

    private static final EventObjects OBJECT = EventObjects.of("als_1", new StoredEvent("770", 1,
            "01HZZZZZZZZZZZZZZZZZZZZZZ1", "user.signed_in", Instant.parse("2026-01-15T10:30:00Z"),
            Instant.parse("2026-01-15T10:30:00Z"), "{\"id\":\"01HZZZZZZZZZZZZZZZZZZZZZZ1\"}"), "logs", true);

    private final AtomicReference<String> storedEtag = new AtomicReference<>();
    private final AtomicInteger puts = new AtomicInteger();
    private HttpServer store;
    private S3Client s3;

    @BeforeEach
    void start() throws Exception {
        store = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        store.createContext("/", exchange -> {
            if (exchange.getRequestMethod().equals("PUT")) {
                puts.incrementAndGet();
                exchange.close(); // no answer: the connection is cut
                return;
            }
            String etag = storedEtag.get();
            if (etag == null) {
                exchange.sendResponseHeaders(404, -1);
            } else {
                exchange.getResponseHeaders().add("ETag", "\"" + etag + "\"");
                exchange.getResponseHeaders().add("Content-Length", "0");
                exchange.sendResponseHeaders(200, -1);
            }
            exchange.close();
        });
        store.start();
        s3 = S3Client.builder().endpointOverride(URI.create("http://127.0.0.1:" + store.getAddress().getPort()))
                .forcePathStyle(true).region(Region.US_EAST_1)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .overrideConfiguration(c -> c.retryStrategy(RetryMode.STANDARD).retryStrategy(b -> b.maxAttempts(1)))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("id", "secret")))
                .build();
    }

    @AfterEach
    void stop() {
        s3.close();
        store.stop(0);
    }

    @Test
    void aCutUploadOfAnObjectStoredWithTheSameBytesCountsAsWritten() throws Exception {
        storedEtag.set(HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(OBJECT.body())));
        S3.put(s3, "audit-bucket", OBJECT, request -> request.ifNoneMatch("*"));
        assertThat(puts.get()).isEqualTo(1);
    }

    @Test
    void aCutUploadOfAnObjectNotStoredFailsAsTheCut() {
        assertThatThrownBy(() -> S3.put(s3, "audit-bucket", OBJECT, request -> request.ifNoneMatch("*")))
                .isInstanceOf(SdkClientException.class);
    }

    @Test
    void aCutUploadOfAKeyHoldingOtherBytesFailsAsTheCut() {
        storedEtag.set("0123456789abcdef0123456789abcdef");
        assertThatThrownBy(() -> S3.put(s3, "audit-bucket", OBJECT, request -> request.ifNoneMatch("*")))
                .isInstanceOf(SdkClientException.class);
    }
}
