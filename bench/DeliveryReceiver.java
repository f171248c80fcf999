import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import java.util.zip.Inflater;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * Counting Datadog intake for bench/deliver: answers POST /api/v2/logs with 202 {} after gunzipping the body and
 * reading the id of every {"message":{"id":"..."} entry. Run with -Dsun.net.httpserver.nodelay=true.
 *
 * <p>Event ids are told apart by their first character:
 * <ul>
 *   <li>{@code X}: the SQL backlog, {@code XBENCH} + the row number in 20 digits; marked in a bit set, so
 *       duplicates and out-of-range numbers are counted, and the time the last missing one arrives is the end of
 *       the drain;</li>
 *   <li>{@code Y}: the pre-built body wrk posts to measure this receiver, only counted;</li>
 *   <li>anything else: a ULID the service made when it accepted the event; its first 10 characters are the
 *       accept time in milliseconds, so now minus that goes into the accept-to-receiver latency histogram.</li>
 * </ul>
 *
 * <p>GET /stats answers one line of key=value pairs; POST /reset-live clears the live (ULID) figures.
 *
 * <p>POST /hook/NAME is a Generic HTTPS destination (JSON array or NDJSON of {"event":{"id":"...",...},...} entries);
 * the live figures of each NAME are kept apart (a fan-out's streams receive the same events), GET /hook-stats/NAME
 * answers them as one line and POST /reset-live clears them too. Signatures are not checked.
 *
 * <p>Usage: java -Dsun.net.httpserver.nodelay=true bench/DeliveryReceiver.java --port P --expect N
 * [--threads T] [--api-key K] [--write-body FILE] (--write-body writes wrk's gzipped 1000-entry body and exits)
 */
public final class DeliveryReceiver {

    static final byte[] MARKER = "{\"message\":{\"id\":\"".getBytes(StandardCharsets.US_ASCII);
    static final byte[] HOOK_MARKER = "{\"event\":{\"id\":\"".getBytes(StandardCharsets.US_ASCII);
    static final int ID_LENGTH = 26;
    static final int BUCKETS = 120_000; // 1 ms buckets up to 2 minutes, then one overflow bucket

    final int expected;
    final String apiKey;
    final BitSet backlog;
    int backlogUnique; // guarded by backlog
    final AtomicLong backlogDuplicates = new AtomicLong();
    final AtomicLong backlogOutOfRange = new AtomicLong();
    final AtomicLong backlogFirstAt = new AtomicLong();
    final AtomicLong backlogLastAt = new AtomicLong();
    final AtomicLong backlogDoneAt = new AtomicLong();
    final AtomicLong backlogMaxGap = new AtomicLong();
    final AtomicLong synthetic = new AtomicLong();
    final AtomicLong requests = new AtomicLong();
    final AtomicLong entries = new AtomicLong();
    final AtomicLong maxEntries = new AtomicLong();
    final AtomicLong badRequests = new AtomicLong();
    final AtomicLong clientGone = new AtomicLong();
    // live events: reset by POST /reset-live
    volatile Set<String> liveIds = ConcurrentHashMap.newKeySet();
    final AtomicLong live = new AtomicLong();
    final AtomicLong liveDuplicates = new AtomicLong();
    final AtomicLong liveBadIds = new AtomicLong();
    final Latencies latency = new Latencies();
    final Map<String, Hook> hooks = new ConcurrentHashMap<>();

    /** One Generic HTTPS destination's live events: ids seen, and the accept-to-receiver histogram. */
    static final class Hook {
        final Set<String> ids = ConcurrentHashMap.newKeySet();
        final AtomicLong requests = new AtomicLong();
        final AtomicLong duplicates = new AtomicLong();
        final AtomicLong badIds = new AtomicLong();
        final Latencies latency = new Latencies();

        void count(byte[] body, long now) {
            requests.incrementAndGet();
            for (int i = indexOf(body, HOOK_MARKER, 0); i >= 0; i = indexOf(body, HOOK_MARKER, i + 1)) {
                int id = i + HOOK_MARKER.length;
                if (id + ID_LENGTH > body.length) {
                    break;
                }
                String value = new String(body, id, ID_LENGTH, StandardCharsets.US_ASCII);
                long acceptedAt = ulidMillis(value);
                if (acceptedAt < 0) {
                    badIds.incrementAndGet();
                } else if (!ids.add(value)) {
                    duplicates.incrementAndGet();
                } else {
                    latency.record(now - acceptedAt);
                }
            }
        }

        String stats() {
            Latencies.Summary latencies = latency.summary();
            return "requests=" + requests.get() + " live=" + latencies.total() + " live_duplicates=" + duplicates.get()
                    + " live_bad_ids=" + badIds.get() + latencies;
        }
    }

    /** Accept-to-receiver latencies in 1 ms buckets, then one overflow bucket. */
    static final class Latencies {
        private final AtomicLongArray buckets = new AtomicLongArray(BUCKETS + 1);

        /** How many, nearest-rank p50 and p99 and the largest, in ms; -1 when empty. */
        record Summary(long total, long p50, long p99, long max) {
            @Override
            public String toString() {
                return " live_p50_ms=" + p50 + " live_p99_ms=" + p99 + " live_max_ms=" + max;
            }
        }

        void record(long ms) {
            buckets.incrementAndGet((int) Math.min(Math.max(0, ms), BUCKETS));
        }

        void reset() {
            for (int i = 0; i <= BUCKETS; i++) {
                buckets.set(i, 0);
            }
        }

        Summary summary() {
            long[] counts = new long[BUCKETS + 1];
            long total = 0, max = -1;
            for (int i = 0; i <= BUCKETS; i++) {
                counts[i] = buckets.get(i);
                total += counts[i];
                if (counts[i] > 0) {
                    max = i;
                }
            }
            return new Summary(total, percentile(counts, total, 0.50), percentile(counts, total, 0.99), max);
        }
    }

    static int indexOf(byte[] data, byte[] pattern, int from) {
        outer:
        for (int i = from; i <= data.length - pattern.length; i++) {
            for (int k = 0; k < pattern.length; k++) {
                if (data[i + k] != pattern[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    DeliveryReceiver(int expected, String apiKey) {
        this.expected = expected;
        this.apiKey = apiKey;
        this.backlog = new BitSet(expected + 1);
    }

    public static void main(String[] args) throws IOException {
        int port = 0, expected = 0, threads = 4;
        String apiKey = null;
        Path bodyOut = null;
        for (int i = 0; i < args.length; i += 2) {
            String value = args[i + 1];
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(value);
                case "--expect" -> expected = Integer.parseInt(value);
                case "--threads" -> threads = Integer.parseInt(value);
                case "--api-key" -> apiKey = value;
                case "--write-body" -> bodyOut = Path.of(value);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (bodyOut != null) {
            Files.write(bodyOut, syntheticBody(1000));
            return;
        }
        DeliveryReceiver receiver = new DeliveryReceiver(expected, apiKey);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 1024);
        server.setExecutor(Executors.newFixedThreadPool(threads));
        server.createContext("/", receiver::handle);
        server.start();
        System.err.println("receiver listening on 127.0.0.1:" + port + ", expecting " + expected + " backlog events");
    }

    /** What the service sends for n events, with Y ids, gzipped at the fastest level as the service does. */
    static byte[] syntheticBody(int n) throws IOException {
        StringBuilder json = new StringBuilder("[");
        for (int i = 1; i <= n; i++) {
            if (i > 1) {
                json.append(',');
            }
            String id = "YBENCH" + String.format("%020d", i);
            json.append("{\"message\":").append(eventJson(id))
                    .append(",\"ddsource\":\"auditstream\",\"service\":\"audit-logs\"}");
        }
        json.append(']');
        var out = new java.io.ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out, 64 * 1024) {
            {
                def.setLevel(Deflater.BEST_SPEED);
            }
        }) {
            gzip.write(json.toString().getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    /** The event JSON bench/deliver stores in the backlog (and the service stores for its load generator's events). */
    static String eventJson(String id) {
        return "{\"id\":\"" + id + "\",\"action\":\"user.signed_in\",\"targets\":[{\"id\":\"user_123\",\"type\":\"user\"}],"
                + "\"actor\":{\"id\":\"user_456\",\"type\":\"user\"},"
                + "\"context\":{\"location\":\"192.168.1.1\",\"user_agent\":\"Chrome/91.0\"},"
                + "\"occurred_at\":\"2024-01-15T10:30:00.000Z\"}";
    }

    void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            if (method.equals("GET") && path.equals("/stats")) {
                exchange.getRequestBody().readAllBytes();
                respond(exchange, 200, stats() + "\n");
            } else if (method.equals("POST") && path.equals("/reset-live")) {
                exchange.getRequestBody().readAllBytes();
                resetLive();
                respond(exchange, 200, "ok\n");
            } else if (method.equals("POST") && path.startsWith("/hook/")) {
                byte[] body = exchange.getRequestBody().readAllBytes();
                hooks.computeIfAbsent(path.substring("/hook/".length()), name -> new Hook())
                        .count(body, System.currentTimeMillis());
                respond(exchange, 200, "{}");
            } else if (method.equals("GET") && path.startsWith("/hook-stats/")) {
                exchange.getRequestBody().readAllBytes();
                Hook hook = hooks.get(path.substring("/hook-stats/".length()));
                respond(exchange, 200, (hook == null ? new Hook() : hook).stats() + "\n");
            } else if (method.equals("POST") && path.equals("/api/v2/logs")) {
                byte[] body = exchange.getRequestBody().readAllBytes();
                long now = System.currentTimeMillis();
                if (apiKey != null && !apiKey.equals(exchange.getRequestHeaders().getFirst("DD-API-KEY"))) {
                    badRequests.incrementAndGet();
                    respond(exchange, 403, "{\"errors\":[\"bad DD-API-KEY\"]}");
                    return;
                }
                try {
                    boolean gzip = "gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"));
                    byte[] json = gzip ? gunzip(body) : body;
                    count(json, gzip ? LENGTH.get() : json.length, now);
                } catch (Exception e) {
                    badRequests.incrementAndGet();
                    respond(exchange, 400, "{\"errors\":[\"unreadable body\"]}");
                    return;
                }
                respond(exchange, 202, "{}");
            } else {
                exchange.getRequestBody().readAllBytes();
                badRequests.incrementAndGet();
                respond(exchange, 404, "{}");
            }
        } catch (IOException e) {
            clientGone.incrementAndGet(); // the client closed the connection first (wrk does when it stops)
        } catch (RuntimeException e) {
            e.printStackTrace();
            throw e;
        }
    }

    static void respond(HttpExchange exchange, int status, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", status == 200 ? "text/plain" : "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    static final ThreadLocal<byte[]> BUFFER = ThreadLocal.withInitial(() -> new byte[1 << 20]);
    static final ThreadLocal<Integer> LENGTH = new ThreadLocal<>();
    static final ThreadLocal<Inflater> INFLATER = ThreadLocal.withInitial(() -> new Inflater(true));

    /** gunzips into this thread's buffer (grown as needed); LENGTH holds the byte count. */
    static byte[] gunzip(byte[] gz) throws Exception {
        if (gz.length < 18 || (gz[0] & 0xff) != 0x1f || (gz[1] & 0xff) != 0x8b || gz[2] != 8) {
            throw new IOException("not gzip");
        }
        int flags = gz[3] & 0xff, offset = 10;
        if ((flags & 4) != 0) {
            offset += 2 + ((gz[offset] & 0xff) | (gz[offset + 1] & 0xff) << 8);
        }
        if ((flags & 8) != 0) {
            while (gz[offset++] != 0) { }
        }
        if ((flags & 16) != 0) {
            while (gz[offset++] != 0) { }
        }
        if ((flags & 2) != 0) {
            offset += 2;
        }
        Inflater inflater = INFLATER.get();
        inflater.reset();
        inflater.setInput(gz, offset, gz.length - offset);
        byte[] buffer = BUFFER.get();
        int length = 0;
        while (!inflater.finished()) {
            if (length == buffer.length) {
                buffer = java.util.Arrays.copyOf(buffer, buffer.length * 2);
                BUFFER.set(buffer);
            }
            int n = inflater.inflate(buffer, length, buffer.length - length);
            if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                throw new IOException("truncated gzip");
            }
            length += n;
        }
        LENGTH.set(length);
        return buffer;
    }

    void count(byte[] json, int length, long now) {
        int n = 0;
        long[] rows = null;
        int backlogCount = 0;
        long syntheticCount = 0;
        int last = length - MARKER.length - ID_LENGTH;
        byte first = MARKER[0];
        outer:
        for (int i = 0; i <= last; i++) {
            if (json[i] != first) {
                continue;
            }
            for (int k = 1; k < MARKER.length; k++) {
                if (json[i + k] != MARKER[k]) {
                    continue outer;
                }
            }
            int id = i + MARKER.length;
            n++;
            byte kind = json[id];
            if (kind == 'X') {
                long row = 0;
                for (int k = 6; k < ID_LENGTH; k++) {
                    row = row * 10 + (json[id + k] - '0');
                }
                if (rows == null) {
                    rows = new long[1000];
                } else if (backlogCount == rows.length) {
                    rows = java.util.Arrays.copyOf(rows, rows.length * 2);
                }
                rows[backlogCount++] = row;
            } else if (kind == 'Y') {
                syntheticCount++;
            } else {
                recordLive(new String(json, id, ID_LENGTH, StandardCharsets.US_ASCII), now);
            }
            i = id + ID_LENGTH - 1;
        }
        requests.incrementAndGet();
        entries.addAndGet(n);
        maxEntries.accumulateAndGet(n, Math::max);
        if (syntheticCount > 0) {
            synthetic.addAndGet(syntheticCount);
        }
        if (backlogCount > 0) {
            recordBacklog(rows, backlogCount, now);
        }
    }

    void recordBacklog(long[] rows, int count, long now) {
        backlogFirstAt.compareAndSet(0, now);
        long previous = backlogLastAt.getAndAccumulate(now, Math::max);
        if (previous != 0) {
            backlogMaxGap.accumulateAndGet(now - previous, Math::max);
        }
        long duplicates = 0, outOfRange = 0;
        synchronized (backlog) {
            for (int j = 0; j < count; j++) {
                long row = rows[j];
                if (row < 1 || row > expected) {
                    outOfRange++;
                } else if (backlog.get((int) row)) {
                    duplicates++;
                } else {
                    backlog.set((int) row);
                    backlogUnique++;
                }
            }
            if (backlogUnique == expected) {
                backlogDoneAt.compareAndSet(0, now);
            }
        }
        if (duplicates > 0) {
            backlogDuplicates.addAndGet(duplicates);
        }
        if (outOfRange > 0) {
            backlogOutOfRange.addAndGet(outOfRange);
        }
    }

    void recordLive(String id, long now) {
        long acceptedAt = ulidMillis(id);
        if (acceptedAt < 0) {
            liveBadIds.incrementAndGet();
            return;
        }
        if (!liveIds.add(id)) {
            liveDuplicates.incrementAndGet();
            return;
        }
        live.incrementAndGet();
        latency.record(now - acceptedAt);
    }

    /** The millisecond timestamp in a ULID's first 10 Crockford base32 characters, or -1. */
    static long ulidMillis(String id) {
        long value = 0;
        for (int i = 0; i < 10; i++) {
            int digit = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".indexOf(Character.toUpperCase(id.charAt(i)));
            if (digit < 0) {
                return -1;
            }
            value = value << 5 | digit;
        }
        return value;
    }

    void resetLive() {
        hooks.clear();
        liveIds = ConcurrentHashMap.newKeySet();
        live.set(0);
        liveDuplicates.set(0);
        liveBadIds.set(0);
        latency.reset();
    }

    String stats() {
        int unique;
        synchronized (backlog) {
            unique = backlogUnique;
        }
        return "requests=" + requests.get() + " entries=" + entries.get() + " max_entries=" + maxEntries.get()
                + " bad_requests=" + badRequests.get() + " client_gone=" + clientGone.get() + " synthetic=" + synthetic.get()
                + " backlog_unique=" + unique + " backlog_expected=" + expected
                + " backlog_duplicates=" + backlogDuplicates.get() + " backlog_out_of_range=" + backlogOutOfRange.get()
                + " backlog_first_at=" + backlogFirstAt.get() + " backlog_last_at=" + backlogLastAt.get()
                + " backlog_done_at=" + backlogDoneAt.get() + " backlog_max_gap_ms=" + backlogMaxGap.get()
                + " live=" + live.get() + " live_duplicates=" + liveDuplicates.get() + " live_bad_ids=" + liveBadIds.get()
                + latency.summary();
    }

    /** Nearest-rank percentile of the 1 ms histogram; -1 when empty. */
    static long percentile(long[] counts, long total, double p) {
        if (total == 0) {
            return -1;
        }
        long rank = (long) Math.ceil(total * p), seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return i;
            }
        }
        return counts.length - 1;
    }
}
