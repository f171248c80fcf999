package dev.auditstream.support;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Parallel clients posting events, each marked with a unique actor id ({@code c<client>-<n>}, {@code h2-c<client>-<n>}
 * over HTTP/2), recording which markers were acknowledged with 200 — the events the service promised to keep. A client
 * stops once the service refuses it (503, or a connection refused); any other answer or broken connection is recorded
 * as a failure.
 */
public final class EventSender {

    private final URI eventsUri;
    private final String organizationId;
    private final HttpClient http;
    private final String markerPrefix;
    private final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final AtomicBoolean stop = new AtomicBoolean();

    /** Over HTTP/1.1 with keep-alive, as the WorkOS SDKs send. */
    public EventSender(URI eventsUri, String organizationId) {
        this(eventsUri, organizationId, HttpClient.Version.HTTP_1_1);
    }

    /** {@code HTTP_2}: one connection upgraded to cleartext HTTP/2, carrying every client's requests at once. */
    public EventSender(URI eventsUri, String organizationId, HttpClient.Version version) {
        this(eventsUri, organizationId, version, version == HttpClient.Version.HTTP_2 ? "h2-c" : "c");
    }

    /** With markers {@code <markerPrefix><client>-<n>}, to tell several senders to one organization apart. */
    public EventSender(URI eventsUri, String organizationId, HttpClient.Version version, String markerPrefix) {
        this.eventsUri = eventsUri;
        this.organizationId = organizationId;
        this.http = HttpClient.newBuilder().version(version).connectTimeout(Duration.ofSeconds(5)).build();
        this.markerPrefix = markerPrefix;
    }

    /** Runs {@code clients} threads sending {@code perClient} events each (or until {@link #stop()}). */
    public List<Future<?>> start(ExecutorService pool, int clients, int perClient) {
        List<Future<?>> futures = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int client = c;
            futures.add(pool.submit(() -> {
                for (int n = 0; n < perClient && !stop.get(); n++) {
                    if (!send(markerPrefix + client + "-" + n)) {
                        break;
                    }
                }
                return null;
            }));
        }
        return futures;
    }

    public Set<String> run(int clients, int perClient) throws Exception {
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

    public void stop() {
        stop.set(true);
    }

    public Set<String> acknowledged() {
        return acknowledged;
    }

    /** Answers other than 200 and 503, and connections broken after they were made (such as a reset). */
    public List<String> failures() {
        return failures;
    }

    /** Sends one event; false once the service refuses to take more. */
    private boolean send(String marker) {
        String body = TestJson.event(organizationId, "load.test").replace("\"user_456\"", "\"" + marker + "\"");
        try {
            HttpResponse<String> response = http.send(RunningService.authorized(HttpRequest.newBuilder(eventsUri))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 200) {
                acknowledged.add(marker);
            } else if (response.statusCode() == 503) {
                return false;
            } else {
                failures.add(marker + ": " + response.statusCode() + " " + response.body());
            }
            return true;
        } catch (ConnectException refused) {
            return false;
        } catch (Exception e) {
            // not acknowledged: the service made no promise about this one
            failures.add(marker + ": " + e);
            return true;
        }
    }
}
