import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * The S3 server's own PUT ceiling for bench/deliver: CLIENTS S3 clients (AWS SDK v2, path style, checksums only
 * where required, as the service builds them), each with THREADS threads PUTting event-sized objects (about 350
 * bytes of pretty-printed JSON, one new key each) with Content-MD5 as fast as the server answers: RAMP seconds not
 * counted (new connections, threads starting), then SECONDS measured.
 *
 * <p>{@code --clients} takes a list (1,10): one measured run per entry, one after the other in this JVM, after a
 * warm-up of WARMUP seconds with the first entry's clients (not reported: a cold JVM on both sides of the
 * connection PUTs at a fraction of the warm rate), which prints the same line labelled warm-up. Each run prints:
 * {@code s3load-result clients=C threads=T seconds=S puts=N rate=R p50_ms=.. p99_ms=.. max_ms=.. errors=E
 * bytes=B}, then the first error if any.
 *
 * <p>Usage: java -cp TEST_CLASSPATH bench/S3Load.java --endpoint URI --identity ID --credential SECRET
 * --bucket B [--clients 1[,10...]] [--threads 16] [--seconds 10] [--warmup 5] [--ramp 2]
 */
public final class S3Load {

    static final int BUCKETS = 100_000; // 0.1 ms buckets up to 10 s, then one overflow bucket

    public static void main(String[] args) throws Exception {
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        String endpoint = null, identity = null, credential = null, bucket = null;
        int[] clientCounts = {1};
        int threads = 16;
        double seconds = 10, warmup = 5, ramp = 2;
        for (int i = 0; i < args.length; i += 2) {
            String value = args[i + 1];
            switch (args[i]) {
                case "--endpoint" -> endpoint = value;
                case "--identity" -> identity = value;
                case "--credential" -> credential = value;
                case "--bucket" -> bucket = value;
                case "--clients" -> clientCounts = java.util.Arrays.stream(value.split(","))
                        .mapToInt(Integer::parseInt).toArray();
                case "--threads" -> threads = Integer.parseInt(value);
                case "--seconds" -> seconds = Double.parseDouble(value);
                case "--warmup" -> warmup = Double.parseDouble(value);
                case "--ramp" -> ramp = Double.parseDouble(value);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (endpoint == null || identity == null || credential == null || bucket == null) {
            throw new IllegalArgumentException("--endpoint, --identity, --credential and --bucket are required");
        }

        String[] config = {endpoint, identity, credential, bucket};
        if (warmup > 0) {
            System.out.println(run(config, clientCounts[0], threads, 0, warmup, "warm-up"));
        }
        for (int clients : clientCounts) {
            System.out.println(run(config, clients, threads, ramp, seconds, "s3load-result"));
        }
    }

    /**
     * CLIENTS new clients of THREADS threads each, PUTting for RAMP seconds (not counted: new connections, threads
     * starting), then SECONDS; answers the result line.
     */
    static String run(String[] config, int clients, int threads, double ramp, double seconds, String label)
            throws Exception {
        long measureFrom = System.nanoTime() + (long) (ramp * 1e9);
        long measureTo = measureFrom + (long) (seconds * 1e9);
        AtomicLong puts = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicReference<String> firstError = new AtomicReference<>();
        AtomicLongArray latency = new AtomicLongArray(BUCKETS + 1);
        AtomicLong maxNanos = new AtomicLong();
        List<S3Client> s3s = new ArrayList<>();
        List<Thread> workers = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            S3Client s3 = S3Client.builder()
                    .endpointOverride(URI.create(config[0]))
                    .forcePathStyle(true)
                    .region(Region.US_EAST_1)
                    .credentialsProvider(StaticCredentialsProvider.create(
                            AwsBasicCredentials.create(config[1], config[2])))
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                    .httpClientBuilder(ApacheHttpClient.builder().maxConnections(threads))
                    .build();
            s3s.add(s3);
            for (int t = 0; t < threads; t++) {
                String worker = label + "-" + clients + "-" + c + "-" + t;
                workers.add(new Thread(() -> {
                    MessageDigest md5 = md5();
                    for (long n = 1; System.nanoTime() < measureTo; n++) {
                        byte[] body = body(n);
                        String key = "ceiling/2024-01-15/2024-01-15T10:30:00.000Z_" + worker + "-" + n + ".json";
                        PutObjectRequest request = PutObjectRequest.builder()
                                .bucket(config[3]).key(key)
                                .contentType("application/json")
                                .contentLength((long) body.length)
                                .contentMD5(Base64.getEncoder().encodeToString(md5.digest(body)))
                                .build();
                        long sent = System.nanoTime();
                        try {
                            s3.putObject(request, RequestBody.fromBytes(body));
                        } catch (RuntimeException e) {
                            errors.incrementAndGet();
                            firstError.compareAndSet(null, e.toString());
                            continue;
                        }
                        long done = System.nanoTime();
                        if (done >= measureFrom && done < measureTo) {
                            puts.incrementAndGet();
                            bytes.addAndGet(body.length);
                            latency.incrementAndGet((int) Math.min(BUCKETS, (done - sent) / 100_000));
                            maxNanos.accumulateAndGet(done - sent, Math::max);
                        }
                    }
                }));
            }
        }
        workers.forEach(Thread::start);
        for (Thread worker : workers) {
            worker.join();
        }
        s3s.forEach(S3Client::close);

        long n = puts.get();
        return String.format("%s clients=%d threads=%d seconds=%.1f puts=%d rate=%.0f p50_ms=%.1f p99_ms=%.1f"
                        + " max_ms=%.1f errors=%d bytes=%d%s", label, clients, clients * threads, seconds, n, n / seconds,
                percentile(latency, n, 0.50), percentile(latency, n, 0.99), maxNanos.get() / 1e6, errors.get(),
                n == 0 ? 0 : bytes.get() / n, firstError.get() == null ? "" : "\nfirst error: " + firstError.get());
    }

    /** About 350 bytes: an event as the service stores it, pretty-printed as the service uploads it. */
    static byte[] body(long n) {
        return ("""
                {
                  "id" : "YBENCH%020d",
                  "action" : "user.signed_in",
                  "targets" : [ {
                    "id" : "user_123",
                    "type" : "user"
                  } ],
                  "actor" : {
                    "id" : "user_456",
                    "type" : "user"
                  },
                  "context" : {
                    "location" : "192.168.1.1",
                    "user_agent" : "Chrome/91.0"
                  },
                  "occurred_at" : "2024-01-15T10:30:00.000Z"
                }""").formatted(n).getBytes(StandardCharsets.UTF_8);
    }

    static double percentile(AtomicLongArray histogram, long total, double p) {
        long rank = (long) Math.ceil(total * p), seen = 0;
        for (int i = 0; i <= BUCKETS; i++) {
            seen += histogram.get(i);
            if (seen >= rank && rank > 0) {
                return (i + 1) / 10.0;
            }
        }
        return 0;
    }

    static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
