import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.domain.Blob;
import org.jclouds.blobstore.domain.PageSet;
import org.jclouds.blobstore.domain.StorageMetadata;
import org.jclouds.blobstore.domain.StorageType;
import org.jclouds.blobstore.options.ListContainerOptions;
import org.jclouds.blobstore.options.PutOptions;
import org.jclouds.blobstore.util.ForwardingBlobStore;

/**
 * The S3 server for bench/deliver: s3proxy on jclouds' in-memory ("transient") blob store, checking AWS v4
 * signatures and Content-MD5, plus a small admin HTTP server that counts what was stored.
 *
 * <p>The blob store s3proxy writes to is wrapped so that every successful PUT adds its key to a per-bucket set:
 * {@code objects} is the number of distinct keys (a retried upload overwrites the same key and is not counted
 * twice), {@code puts} the number of successful PUTs, {@code last_at} the time the last new key arrived (the end of
 * a drain, whatever the polling interval).
 *
 * <p>Admin endpoints, answering one line of key=value pairs:
 * <ul>
 *   <li>{@code GET /stats?bucket=A,B,...}: objects, puts, put_errors, first_at, last_at (ms since the epoch, 0 when
 *       none) summed, or min/max, over the buckets named;</li>
 *   <li>{@code GET /verify?bucket=B&prefix=P&expect=N}: walks the bucket through the blob store itself (not the
 *       counters) and reads every object: each key must be {@code P/YYYY-MM-DD/<timestamp>_<12 hex>.json}, each
 *       body an event whose id is {@code XBENCH} + a row number in 20 digits between 1 and N, or the service's
 *       own record of a change to the stream ({@code log_stream.*}, counted apart). Answers objects, ids, own,
 *       missing, duplicates, out_of_range, bad_keys, bad_bodies, the mean object size in bytes and the first bad
 *       key;</li>
 *   <li>{@code POST /clear?bucket=B}: empties the bucket and resets its counters.</li>
 * </ul>
 *
 * <p>Usage: java -cp TEST_CLASSPATH bench/S3ProxyServer.java PORT ADMIN_PORT IDENTITY CREDENTIAL BUCKET...
 */
public final class S3ProxyServer {

    static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*\"XBENCH(\\d{20})\"");
    /** The service's own record of a change to the stream (created, paused, resumed): an event of the log too. */
    static final Pattern OWN = Pattern.compile("\"action\"\\s*:\\s*\"log_stream\\.");
    static final Pattern KEY = Pattern.compile("\\d{4}-\\d{2}-\\d{2}/[^/]+_[0-9a-f]{12}\\.json");

    static final class Counts {
        final Set<String> keys = ConcurrentHashMap.newKeySet();
        final AtomicLong puts = new AtomicLong();
        final AtomicLong putErrors = new AtomicLong();
        final AtomicLong firstAt = new AtomicLong();
        final AtomicLong lastAt = new AtomicLong();
    }

    static final Map<String, Counts> COUNTS = new ConcurrentHashMap<>();

    static Counts counts(String bucket) {
        return COUNTS.computeIfAbsent(bucket, b -> new Counts());
    }

    /** Counts what s3proxy stores; everything else goes straight to the in-memory store. */
    static final class CountingBlobStore extends ForwardingBlobStore {
        CountingBlobStore(BlobStore delegate) {
            super(delegate);
        }

        @Override
        public String putBlob(String container, Blob blob) {
            return counted(container, blob, () -> super.putBlob(container, blob));
        }

        @Override
        public String putBlob(String container, Blob blob, PutOptions options) {
            return counted(container, blob, () -> super.putBlob(container, blob, options));
        }

        private static String counted(String container, Blob blob, java.util.function.Supplier<String> put) {
            Counts counts = counts(container);
            String etag;
            try {
                etag = put.get();
            } catch (RuntimeException e) {
                counts.putErrors.incrementAndGet();
                throw e;
            }
            long now = System.currentTimeMillis();
            counts.puts.incrementAndGet();
            counts.firstAt.compareAndSet(0, now);
            if (counts.keys.add(blob.getMetadata().getName())) {
                counts.lastAt.accumulateAndGet(now, Math::max);
            }
            return etag;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: S3ProxyServer PORT ADMIN_PORT IDENTITY CREDENTIAL BUCKET...");
            System.exit(2);
        }
        quietLogging();
        int port = Integer.parseInt(args[0]);
        int adminPort = Integer.parseInt(args[1]);
        BlobStoreContext blobs = ContextBuilder.newBuilder("transient").credentials("unused", "unused")
                .build(BlobStoreContext.class);
        BlobStore store = blobs.getBlobStore();
        for (int i = 4; i < args.length; i++) {
            store.createContainerInLocation(null, args[i]);
            counts(args[i]);
        }
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(new CountingBlobStore(store))
                .endpoint(URI.create("http://127.0.0.1:" + port))
                .awsAuthentication(AuthenticationType.AWS_V4, args[2], args[3])
                .ignoreUnknownHeaders(true)
                .build();
        proxy.start();
        while (!"STARTED".equals(proxy.getState())) {
            Thread.sleep(10);
        }

        HttpServer admin = HttpServer.create(new InetSocketAddress("127.0.0.1", adminPort), 16);
        admin.setExecutor(Executors.newFixedThreadPool(2));
        handle(admin, "/stats", query -> stats(query.get("bucket")));
        handle(admin, "/verify", query -> verify(store, query.get("bucket"), query.getOrDefault("prefix", ""),
                Integer.parseInt(query.getOrDefault("expect", "0"))));
        handle(admin, "/clear", query -> {
            String bucket = query.get("bucket");
            store.clearContainer(bucket);
            COUNTS.put(bucket, new Counts());
            return "cleared=" + bucket;
        });
        admin.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            admin.stop(0);
            try {
                proxy.stop();
            } catch (Exception e) {
                // exiting anyway
            }
        }));
        System.out.println("s3proxy listening on http://127.0.0.1:" + port + ", admin on http://127.0.0.1:"
                + adminPort + ", buckets " + String.join(" ", java.util.Arrays.copyOfRange(args, 4, args.length)));
    }

    /** logback-classic is on the test classpath and logs DEBUG to the console without a configuration. */
    static void quietLogging() {
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);
    }

    static String stats(String buckets) {
        long objects = 0, puts = 0, putErrors = 0, firstAt = 0, lastAt = 0;
        for (String bucket : (buckets == null ? String.join(",", COUNTS.keySet()) : buckets).split(",")) {
            Counts counts = counts(bucket);
            objects += counts.keys.size();
            puts += counts.puts.get();
            putErrors += counts.putErrors.get();
            long first = counts.firstAt.get();
            if (first != 0 && (firstAt == 0 || first < firstAt)) {
                firstAt = first;
            }
            lastAt = Math.max(lastAt, counts.lastAt.get());
        }
        return "objects=" + objects + " puts=" + puts + " put_errors=" + putErrors + " first_at=" + firstAt
                + " last_at=" + lastAt;
    }

    static String verify(BlobStore store, String bucket, String prefix, int expect) throws IOException {
        String keyPrefix = prefix.isEmpty() ? "" : prefix + "/";
        BitSet seen = new BitSet(expect + 1);
        long objects = 0, ids = 0, own = 0, duplicates = 0, outOfRange = 0, badKeys = 0, badBodies = 0, bytes = 0;
        String firstBad = "-";
        String marker = null;
        do {
            ListContainerOptions options = ListContainerOptions.Builder.recursive().maxResults(10_000);
            if (marker != null) {
                options.afterMarker(marker);
            }
            PageSet<? extends StorageMetadata> page = store.list(bucket, options);
            for (StorageMetadata entry : page) {
                if (entry.getType() != StorageType.BLOB) {
                    continue;
                }
                objects++;
                String key = entry.getName();
                if (!key.startsWith(keyPrefix) || !KEY.matcher(key.substring(keyPrefix.length())).matches()) {
                    badKeys++;
                    firstBad = firstBad.equals("-") ? key : firstBad;
                }
                Blob blob = store.getBlob(bucket, key);
                String body;
                try (InputStream in = blob.getPayload().openStream()) {
                    body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                bytes += body.length();
                Matcher id = ID.matcher(body);
                boolean found = id.find();
                if (!found && OWN.matcher(body).find()) {
                    own++;
                    continue;
                }
                if (!found) {
                    badBodies++;
                    firstBad = firstBad.equals("-") ? key : firstBad;
                    continue;
                }
                long row = Long.parseLong(id.group(1));
                if (row < 1 || row > expect) {
                    outOfRange++;
                } else if (seen.get((int) row)) {
                    duplicates++;
                } else {
                    seen.set((int) row);
                    ids++;
                }
            }
            marker = page.getNextMarker();
        } while (marker != null);
        return "objects=" + objects + " ids=" + ids + " own=" + own + " missing=" + (expect - ids) + " duplicates=" + duplicates
                + " out_of_range=" + outOfRange + " bad_keys=" + badKeys + " bad_bodies=" + badBodies
                + " bytes=" + (objects == 0 ? 0 : bytes / objects) + " first_bad=" + firstBad;
    }

    interface Handler {
        String answer(Map<String, String> query) throws Exception;
    }

    /** Answers 200 and the handler's line, or 500 and the exception. */
    static void handle(HttpServer server, String path, Handler handler) {
        server.createContext(path, exchange -> {
            String line;
            int status = 200;
            try {
                line = handler.answer(query(exchange));
            } catch (Exception e) {
                status = 500;
                line = "error=" + e;
            }
            answer(exchange, status, line);
        });
    }

    static Map<String, String> query(HttpExchange exchange) {
        Map<String, String> query = new HashMap<>();
        String raw = exchange.getRequestURI().getRawQuery();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    query.put(pair.substring(0, eq), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return query;
    }

    static void answer(HttpExchange exchange, int status, String line) throws IOException {
        byte[] body = (line + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain");
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
