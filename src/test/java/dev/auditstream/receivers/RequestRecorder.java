package dev.auditstream.receivers;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A loopback HTTP server that keeps every request exactly as it arrived (method, raw path and query, headers, body)
 * (gzip undone) and answers 200, or 500 on paths starting with {@code /fail}: for checking that what a stream sends is the literal
 * text it was configured with.
 */
public final class RequestRecorder implements AutoCloseable {

    static {
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    /** One request; header names in any case. */
    public record Request(String method, String rawPath, String rawQuery, Map<String, List<String>> headers,
                          String body) {

        public String header(String name) {
            List<String> values = headers.get(name);
            return values == null ? null : String.join(",", values);
        }
    }

    private final HttpServer server;
    private final List<Request> requests = new ArrayList<>();

    private RequestRecorder() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "request-recorder");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::record);
    }

    public static RequestRecorder start() throws IOException {
        RequestRecorder recorder = new RequestRecorder();
        recorder.server.start();
        return recorder;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public List<Request> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    /** Waits until a request matches, and returns it. */
    public Request await(Predicate<Request> matching, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (requests) {
            while (true) {
                for (Request request : requests) {
                    if (matching.test(request)) {
                        return request;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no matching request among " + requests.size() + ": " + requests);
                }
                requests.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    private void record(HttpExchange exchange) throws IOException {
        Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.putAll(exchange.getRequestHeaders());
        byte[] raw = exchange.getRequestBody().readAllBytes();
        if ("gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
            try (GZIPInputStream gunzip = new GZIPInputStream(new ByteArrayInputStream(raw))) {
                raw = gunzip.readAllBytes();
            }
        }
        String body = new String(raw, StandardCharsets.UTF_8);
        Request request = new Request(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(),
                exchange.getRequestURI().getRawQuery(), headers, body);
        synchronized (requests) {
            requests.add(request);
            requests.notifyAll();
        }
        byte[] answer = "{\"text\":\"Success\",\"code\":0}".getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(request.rawPath().startsWith("/fail") ? 500 : 200, answer.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(answer);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
