package dev.auditstream;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Parallel clients posting events, each marked with a unique actor id ({@code c<client>-<n>}), recording which
 * markers were acknowledged with 200 — the events the service promised to keep.
 */
final class EventSender {

    private final URI eventsUri;
    private final String organizationId;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean stop = new AtomicBoolean();

    EventSender(URI eventsUri, String organizationId) {
        this.eventsUri = eventsUri;
        this.organizationId = organizationId;
    }

    /** Runs {@code clients} threads sending {@code perClient} events each (or until {@link #stop()}). */
    List<Future<?>> start(ExecutorService pool, int clients, int perClient) {
        List<Future<?>> futures = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int client = c;
            futures.add(pool.submit(() -> {
                for (int n = 0; n < perClient && !stop.get(); n++) {
                    send("c" + client + "-" + n);
                }
                return null;
            }));
        }
        return futures;
    }

    Set<String> run(int clients, int perClient) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            for (Future<?> future : start(pool, clients, perClient)) {
                future.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return acknowledged;
    }

    void stop() {
        stop.set(true);
    }

    Set<String> acknowledged() {
        return acknowledged;
    }

    private void send(String marker) {
        String body = TestJson.event(organizationId, "load.test").replace("\"user_456\"", "\"" + marker + "\"");
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(eventsUri)
                    .header("Authorization", "Bearer " + RunningService.API_KEY)
                    .header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(30))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 200) {
                acknowledged.add(marker);
            }
        } catch (Exception e) {
            // not acknowledged: the service made no promise about this one
        }
    }
}
