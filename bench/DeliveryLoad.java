import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Open-loop load for bench/deliver: one event POSTed to /audit_logs/events at a fixed rate. Request i is due at
 * start + i / rate whether or not earlier ones were answered; a pool of keep-alive HTTP/1.1 connections takes the
 * due requests in order, and each request's latency counts from its due time, so waiting for a free connection
 * is included (no coordinated omission). Plain sockets: the JDK HttpClient added seconds of its own at this rate.
 *
 * <p>Usage: java bench/DeliveryLoad.java --url http://127.0.0.1:PORT --api-key KEY
 * (--organization ORG | --organizations FILE) [--rate 1000] [--seconds 20] [--connections 16]
 * (--organizations: one id a line; request i goes to organization i modulo their number, so all get the same rate)
 *
 * <p>Prints one line: load-result sent=.. ok=.. failed=.. unanswered=.. rate=.. post_p50_ms=.. post_p99_ms=..
 * late_max_ms=.. (rate: achieved while sending; late_max_ms: the most the scheduler itself ran late, which should
 * stay near 0; large values mean this generator was starved of CPU).
 */
public final class DeliveryLoad {

    public static void main(String[] args) throws Exception {
        String url = null, apiKey = null;
        List<String> organizations = new ArrayList<>();
        double rate = 1000, seconds = 20;
        int connections = 16;
        for (int i = 0; i < args.length; i += 2) {
            String value = args[i + 1];
            switch (args[i]) {
                case "--url" -> url = value;
                case "--api-key" -> apiKey = value;
                case "--organization" -> organizations.add(value);
                case "--organizations" -> Files.readAllLines(Path.of(value)).stream().map(String::strip)
                        .filter(line -> !line.isEmpty()).forEach(organizations::add);
                case "--rate" -> rate = Double.parseDouble(value);
                case "--seconds" -> seconds = Double.parseDouble(value);
                case "--connections" -> connections = Integer.parseInt(value);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (url == null || apiKey == null || organizations.isEmpty()) {
            throw new IllegalArgumentException("--url, --api-key and --organization(s) are required");
        }
        URI uri = URI.create(url);
        InetSocketAddress address = new InetSocketAddress(uri.getHost(), uri.getPort());
        byte[][] requests = new byte[organizations.size()][];
        for (int o = 0; o < requests.length; o++) {
            requests[o] = request(uri, apiKey, organizations.get(o));
        }

        int total = (int) Math.round(rate * seconds);
        long[] latencies = new long[total];
        Arrays.fill(latencies, -1);
        AtomicLong ok = new AtomicLong(), failed = new AtomicLong();
        AtomicReference<String> firstError = new AtomicReference<>();
        LinkedBlockingQueue<long[]> due = new LinkedBlockingQueue<>();
        long[] stop = new long[0];
        Thread[] workers = new Thread[connections];
        for (int w = 0; w < connections; w++) {
            workers[w] = new Thread(() -> {
                Connection connection = new Connection(address);
                try {
                    while (true) {
                        long[] ticket = due.take();
                        if (ticket == stop) {
                            return;
                        }
                        int slot = (int) ticket[0];
                        try {
                            int status = connection.exchange(requests[slot % requests.length]);
                            if (status / 100 == 2) {
                                latencies[slot] = System.nanoTime() - ticket[1];
                                ok.incrementAndGet();
                            } else {
                                failed.incrementAndGet();
                                firstError.compareAndSet(null, "HTTP " + status);
                            }
                        } catch (IOException e) {
                            connection.close();
                            failed.incrementAndGet();
                            firstError.compareAndSet(null, e.toString());
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    connection.close();
                }
            }, "load-" + w);
            workers[w].setDaemon(true);
            workers[w].start();
        }

        long intervalNanos = (long) (1e9 / rate);
        long start = System.nanoTime();
        long lateMax = 0, lastSent = start;
        for (int i = 0; i < total; i++) {
            long at = start + i * intervalNanos;
            long now;
            while ((now = System.nanoTime()) < at) {
                LockSupport.parkNanos(at - now);
            }
            lateMax = Math.max(lateMax, now - at);
            lastSent = now;
            due.add(new long[] {i, at});
        }
        for (int w = 0; w < connections; w++) {
            due.add(stop);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (Thread worker : workers) {
            worker.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
        long[] answered = Arrays.stream(latencies).filter(l -> l >= 0).sorted().toArray();
        if (firstError.get() != null) {
            System.err.println("first failed request: " + firstError.get());
        }
        System.out.printf("load-result sent=%d ok=%d failed=%d unanswered=%d rate=%.1f post_p50_ms=%.2f"
                        + " post_p99_ms=%.2f late_max_ms=%.1f%n",
                total, ok.get(), failed.get(), total - ok.get() - failed.get(),
                (total - 1) / Math.max(1e-9, (lastSent - start) / 1e9),
                percentile(answered, 0.50) / 1e6, percentile(answered, 0.99) / 1e6, lateMax / 1e6);
        System.exit(0);
    }

    /** One event for the organization, as a whole HTTP/1.1 request. */
    static byte[] request(URI uri, String apiKey, String organization) {
        byte[] body = ("{\"organization_id\":\"" + organization + "\",\"event\":{"
                + "\"action\":\"user.signed_in\",\"occurred_at\":\"2024-01-15T10:30:00.000Z\","
                + "\"actor\":{\"id\":\"user_456\",\"type\":\"user\"},"
                + "\"targets\":[{\"id\":\"user_123\",\"type\":\"user\"}],"
                + "\"context\":{\"location\":\"192.168.1.1\",\"user_agent\":\"Chrome/91.0\"}}}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] head = ("POST /audit_logs/events HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
                + "\r\nAuthorization: Bearer " + apiKey + "\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] request = Arrays.copyOf(head, head.length + body.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        return request;
    }

    static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return -1;
        }
        int rank = (int) Math.ceil(sorted.length * p);
        return sorted[Math.max(0, rank - 1)];
    }

    /** One keep-alive HTTP/1.1 connection, opened on first use and again after an error. */
    static final class Connection {
        private final InetSocketAddress address;
        private Socket socket;
        private OutputStream out;
        private InputStream in;

        Connection(InetSocketAddress address) {
            this.address = address;
        }

        /** Sends the request and reads the whole response; returns its status. */
        int exchange(byte[] request) throws IOException {
            if (socket == null) {
                socket = new Socket();
                socket.setTcpNoDelay(true);
                socket.setSoTimeout(30_000);
                socket.connect(address, 5_000);
                out = socket.getOutputStream();
                in = new BufferedInputStream(socket.getInputStream(), 8192);
            }
            out.write(request);
            out.flush();
            String statusLine = line();
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
                throw new IOException("bad status line: " + statusLine);
            }
            int status = Integer.parseInt(parts[1]);
            long length = -1;
            boolean chunked = false, close = false;
            for (String header; !(header = line()).isEmpty(); ) {
                int colon = header.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String name = header.substring(0, colon).trim().toLowerCase();
                String value = header.substring(colon + 1).trim().toLowerCase();
                switch (name) {
                    case "content-length" -> length = Long.parseLong(value);
                    case "transfer-encoding" -> chunked = value.contains("chunked");
                    case "connection" -> close = value.contains("close");
                    default -> { }
                }
            }
            if (chunked) {
                while (true) {
                    String size = line();
                    int semicolon = size.indexOf(';');
                    long chunk = Long.parseLong((semicolon < 0 ? size : size.substring(0, semicolon)).trim(), 16);
                    if (chunk == 0) {
                        while (!line().isEmpty()) { } // trailers
                        break;
                    }
                    skip(chunk);
                    line();
                }
            } else if (length >= 0) {
                skip(length);
            } else {
                close = true; // body until close: not expected from the service
            }
            if (close) {
                close();
            }
            return status;
        }

        private String line() throws IOException {
            StringBuilder line = new StringBuilder();
            for (int c; (c = in.read()) != '\n'; ) {
                if (c < 0) {
                    throw new IOException("connection closed");
                }
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            return line.toString();
        }

        private void skip(long n) throws IOException {
            while (n > 0) {
                long skipped = in.skip(n);
                if (skipped <= 0) {
                    if (in.read() < 0) {
                        throw new IOException("connection closed");
                    }
                    skipped = 1;
                }
                n -= skipped;
            }
        }

        void close() {
            if (socket != null) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
                socket = null;
            }
        }
    }
}
