package dev.auditstream.receivers;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPInputStream;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;

/**
 * Shared lifecycle, recording and fault injection for the loopback SIEM receivers.
 * Subclasses only implement the protocol check ({@link #handle}) and the service's own error bodies ({@link #errorBody}).
 */
public abstract class LoopbackReceiver implements AutoCloseable {

    static {
        // Without TCP_NODELAY every small response waits ~40 ms for the client's delayed ACK.
        // The JDK reads this once, when the first server is created, so it must be set before that.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    /** Enough threads that a hanging request doesn't block the retries or other requests behind it. */
    private static final int THREADS = 8;

    /** Strict parsing: trailing garbage and duplicate keys are sender bugs, even where a real service might shrug. */
    protected static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /**
     * One request as received, and how it was answered.
     *
     * @param seq          1-based arrival number
     * @param query        the raw query string, or null
     * @param headers      case-insensitive
     * @param rawBody      bytes exactly as they came off the wire
     * @param body         rawBody after Content-Encoding was undone (same array when there was none)
     * @param reason       why the receiver answered as it did; the real services don't say, but failing tests should
     */
    public record Recorded(long seq, Instant arrivedAt, String method, String path, String query,
                           Map<String, List<String>> headers,
                           byte[] rawBody, byte[] body, int status, String responseBody, String reason) {

        /** First value of the header, or null. */
        public String header(String name) {
            List<String> values = headers.get(name);
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        /** The first value of a query parameter (names and values as sent, not decoded), or null. */
        public String query(String name) {
            if (query == null) {
                return null;
            }
            for (String pair : query.split("&")) {
                String[] nameValue = pair.split("=", 2);
                if (nameValue[0].equals(name)) {
                    return nameValue.length == 2 ? nameValue[1] : "";
                }
            }
            return null;
        }

        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "#%d %s %s -> %d %s".formatted(seq, method, path, status, reason);
        }
    }

    /** The answer to a request; reason only goes into {@link Recorded}. */
    protected record Reply(int status, String body, String reason) {
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final AtomicInteger requestCount = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();

    // Guards everything below; also the monitor awaitEvents waits on.
    private final Object lock = new Object();
    private final List<Recorded> requests = new ArrayList<>();
    private final List<JsonNode> events = new ArrayList<>();
    private int failRemaining; // < 0: forever
    private int failStatus;
    private String failBody; // null: the service's error body for the status
    private int hangRemaining;
    private Duration hang = Duration.ZERO;
    private String poisonAction;

    protected LoopbackReceiver() {
        this(null, null);
    }

    /**
     * A receiver on HTTPS when {@code tls} is given (its key and certificate, and the client certificates it trusts),
     * which requires every client to present a certificate it trusts (mutual TLS), speaking only {@code protocol}
     * when given (e.g. {@code TLSv1.2}); plain HTTP otherwise.
     */
    protected LoopbackReceiver(SSLContext tls, String protocol) {
        String name = getClass().getSimpleName();
        AtomicInteger threadNo = new AtomicInteger();
        executor = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, name + "-" + threadNo.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            InetSocketAddress loopback = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0);
            if (tls == null) {
                server = HttpServer.create(loopback, 0);
            } else {
                HttpsServer https = HttpsServer.create(loopback, 0);
                https.setHttpsConfigurator(new HttpsConfigurator(tls) {
                    @Override
                    public void configure(HttpsParameters params) {
                        SSLParameters parameters = tls.getDefaultSSLParameters();
                        parameters.setNeedClientAuth(true);
                        if (protocol != null) {
                            parameters.setProtocols(new String[] {protocol});
                        }
                        params.setSSLParameters(parameters);
                    }
                });
                server = https;
            }
        } catch (IOException e) {
            executor.shutdownNow();
            throw new IllegalStateException("cannot bind a loopback port for " + name, e);
        }
        server.setExecutor(executor);
        server.createContext("/", this::exchange);
    }

    /** Called by the subclass factories once the subclass is fully initialised, so no request sees half a receiver. */
    protected final void listen() {
        server.start();
    }

    // ---- the service's protocol ----

    /** Path the service answers on, or null for any path. Only POST is ever accepted. */
    protected abstract String path();

    /** The service's error body for a status (used for faults and generic rejections). */
    protected abstract String errorBody(int status);

    /** Whether the service understands Content-Encoding: gzip. Any other encoding is always refused with 415. */
    protected boolean acceptsGzip() {
        return true;
    }

    /** Checks one POST to {@link #path()} whose Content-Encoding has been undone; calls {@link #accept} for what it takes. */
    protected abstract Reply handle(Recorded request);

    protected final Reply reject(int status, String reason) {
        return new Reply(status, errorBody(status), reason);
    }

    protected final void accept(List<JsonNode> accepted) {
        synchronized (lock) {
            events.addAll(accepted);
            lock.notifyAll();
        }
    }

    protected final boolean isPoison(JsonNode event) {
        String action;
        synchronized (lock) {
            action = poisonAction;
        }
        return action != null && event != null && action.equals(event.path("action").asText(null));
    }

    // ---- public API ----

    public String baseUrl() {
        return (server instanceof HttpsServer ? "https" : "http") + "://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Requests that arrived so far, counted on arrival (a hanging request counts before it is answered). */
    public int requestCount() {
        return requestCount.get();
    }

    /** The most requests this receiver ever had in hand at once (arrived, not yet answered). */
    public int maxConcurrentRequests() {
        return maxInFlight.get();
    }

    /** Accepted audit events, in the order they were accepted. */
    public List<JsonNode> events() {
        synchronized (lock) {
            return List.copyOf(events);
        }
    }

    /** Answered requests in arrival order (a request still hanging is not listed yet). */
    public List<Recorded> requests() {
        synchronized (lock) {
            List<Recorded> copy = new ArrayList<>(requests);
            copy.sort(Comparator.comparingLong(Recorded::seq));
            return copy;
        }
    }

    /** Answers the next {@code count} requests with {@code status} and the service's error body, without checking them. */
    public void failNext(int count, int status) {
        answerNext(count, status, null);
    }

    /**
     * Answers every request with this status and body, without checking it: a proxy in front of the service, or a
     * service that says one thing in its status and another in its body.
     */
    public void answerAlways(int status, String body) {
        answerNext(-1, status, body);
    }

    private void answerNext(int count, int status, String body) {
        synchronized (lock) {
            failRemaining = count;
            failStatus = status;
            failBody = body;
        }
    }

    public void failAlways(int status) {
        failNext(-1, status);
    }

    /** Delays the answer to the next request (which is then processed normally, like a slow but working service). */
    public void hangFor(Duration duration) {
        hangNext(1, duration);
    }

    public void hangNext(int count, Duration duration) {
        synchronized (lock) {
            hangRemaining = count;
            hang = duration;
        }
    }

    /** Rejects, with the service's 400, any request carrying an event whose {@code action} is this. */
    public void rejectEventsWithAction(String action) {
        synchronized (lock) {
            poisonAction = action;
        }
    }

    /** Clears failures, hangs and poison. */
    public void recover() {
        synchronized (lock) {
            failRemaining = 0;
            hangRemaining = 0;
            poisonAction = null;
        }
    }

    /** Waits until at least n events were accepted; returns all accepted events. */
    public List<JsonNode> awaitEvents(int n, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (events.size() < n) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("%s expected at least %d accepted events within %s but has %d after %d requests:%s"
                            .formatted(getClass().getSimpleName(), n, timeout, events.size(), requestCount(), history()));
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted while awaiting events", e);
                }
            }
            return List.copyOf(events);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow(); // interrupts hanging handlers
    }

    // ---- plumbing ----

    private String history() {
        List<Recorded> all = requests();
        StringBuilder sb = new StringBuilder();
        // the last few are what explain a missing event
        for (Recorded r : all.subList(Math.max(0, all.size() - 20), all.size())) {
            sb.append("\n  ").append(r);
        }
        return sb.length() == 0 ? " none answered" : sb.toString();
    }

    private void exchange(HttpExchange ex) {
        long seq = requestCount.incrementAndGet();
        Instant arrivedAt = Instant.now();
        maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        try {
            byte[] raw = ex.getRequestBody().readAllBytes();
            Headers headers = new Headers();
            headers.putAll(ex.getRequestHeaders());
            Recorded req = new Recorded(seq, arrivedAt, ex.getRequestMethod(), ex.getRequestURI().getPath(),
                    ex.getRequestURI().getRawQuery(), Collections.unmodifiableMap(headers), raw, raw, 0, null, null);

            Duration delay;
            int fault;
            String faultBody;
            synchronized (lock) {
                faultBody = failBody;
                delay = hangRemaining > 0 ? hang : Duration.ZERO;
                hangRemaining = Math.max(0, hangRemaining - 1);
                fault = failRemaining != 0 ? failStatus : 0;
                if (failRemaining > 0) {
                    failRemaining--;
                }
            }
            if (!delay.isZero()) {
                Thread.sleep(delay.toMillis());
            }

            Reply reply;
            if (fault != 0) {
                reply = faultBody == null ? reject(fault, "injected fault") : new Reply(fault, faultBody, "injected answer");
                if (fault == 429 || fault == 503) {
                    ex.getResponseHeaders().set("Retry-After", "1");
                }
            } else if (!"POST".equals(req.method())) {
                ex.getResponseHeaders().set("Allow", "POST");
                reply = reject(405, "method " + req.method());
            } else if (path() != null && !path().equals(req.path())) {
                reply = reject(404, "path " + req.path());
            } else {
                String encoding = req.header("Content-Encoding");
                if (encoding == null || encoding.equalsIgnoreCase("identity")) {
                    reply = handle(req);
                } else if (encoding.equalsIgnoreCase("gzip") && acceptsGzip()) {
                    byte[] body;
                    try {
                        body = gunzip(raw);
                    } catch (IOException e) {
                        body = null;
                    }
                    if (body == null) {
                        reply = reject(400, "Content-Encoding: gzip but body is not gzip");
                    } else {
                        req = withBody(req, body);
                        reply = handle(req);
                    }
                } else {
                    reply = reject(415, "unsupported Content-Encoding: " + encoding);
                }
            }
            respond(ex, req, reply);
        } catch (InterruptedException e) {
            // closed while hanging: nobody is listening any more
            ex.close();
        } catch (IOException e) {
            ex.close(); // client went away (typically timed out during a hang)
        } catch (RuntimeException e) {
            // a bug in the receiver must show up as a failing test, not a silently dropped connection
            try {
                respond(ex, new Recorded(seq, arrivedAt, ex.getRequestMethod(), ex.getRequestURI().getPath(),
                        ex.getRequestURI().getRawQuery(), Map.of(), new byte[0], new byte[0], 0, null, null),
                        reject(500, "receiver bug: " + e));
            } catch (IOException ignored) {
                ex.close();
            }
            throw e;
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private void respond(HttpExchange ex, Recorded req, Reply reply) throws IOException {
        synchronized (lock) {
            requests.add(new Recorded(req.seq(), req.arrivedAt(), req.method(), req.path(), req.query(), req.headers(),
                    req.rawBody(), req.body(), reply.status(), reply.body(), reply.reason()));
        }
        byte[] out = reply.body().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.sendResponseHeaders(reply.status(), out.length == 0 ? -1 : out.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(out);
        }
    }

    private static Recorded withBody(Recorded r, byte[] body) {
        return new Recorded(r.seq(), r.arrivedAt(), r.method(), r.path(), r.query(), r.headers(), r.rawBody(), body,
                r.status(), r.responseBody(), r.reason());
    }

    private static byte[] gunzip(byte[] raw) throws IOException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
            return in.readAllBytes();
        }
    }

    // ---- helpers shared by the protocols ----

    /** Content-Type without parameters, lower case; null when absent. */
    protected static String mediaType(Recorded req) {
        String ct = req.header("Content-Type");
        return ct == null ? null : ct.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    }

    protected static boolean isGzipped(Recorded req) {
        return "gzip".equalsIgnoreCase(req.header("Content-Encoding"));
    }

    /** A string field that, when present, must be a JSON string. */
    protected static boolean optionalString(JsonNode object, String field) {
        JsonNode v = object.get(field);
        return v == null || v.isTextual();
    }

    protected static String reasonPhrase(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 413 -> "Payload Too Large";
            case 415 -> "Unsupported Media Type";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "HTTP " + status;
        };
    }
}
