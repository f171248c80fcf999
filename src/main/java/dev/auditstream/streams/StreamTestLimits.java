package dev.auditstream.streams;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Semaphore;

import org.apache.camel.Exchange;
import org.apache.camel.support.SynchronizationAdapter;

import dev.auditstream.api.ApiException;

/**
 * A test send is the one call a tenant can make this service place on demand, and it holds an HTTP worker thread (the
 * ones ingestion waits on) for as long as the tenant's destination takes. So a bounded number run at once, and each
 * organization has a few per minute; beyond either the caller gets a 429 with Retry-After.
 */
public final class StreamTestLimits {

    private static final Duration WINDOW = Duration.ofMinutes(1);

    private final Semaphore inFlight;
    private final int perMinute;
    private final ConcurrentMap<String, Window> windows = new ConcurrentHashMap<>();

    public StreamTestLimits(int concurrency, int perMinute) {
        this.inFlight = new Semaphore(concurrency);
        this.perMinute = perMinute;
    }

    /** Route step before the send: takes a slot, given back when the request's exchange completes, however it ends. */
    public void acquire(Exchange exchange, String organizationId) {
        if (!inFlight.tryAcquire()) {
            throw ApiException.tooManyRequests("too_many_tests",
                    "Too many test events are being sent right now; retry shortly.", 1);
        }
        try {
            countFor(organizationId);
        } catch (ApiException limited) {
            inFlight.release();
            throw limited;
        }
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                inFlight.release();
            }
        });
    }

    /** Counts a test in the organization's current minute, or refuses it with the seconds until the next one. */
    private void countFor(String organizationId) {
        long now = System.nanoTime();
        Window window = windows.compute(organizationId, (id, current) ->
                current == null || now - current.start() >= WINDOW.toNanos() ? new Window(now, 1)
                        : new Window(current.start(), current.count() + 1));
        if (window.count() > perMinute) {
            long waitNanos = window.start() + WINDOW.toNanos() - now;
            throw ApiException.tooManyRequests("rate_limited", "At most " + perMinute
                    + " test events per minute for an organization; retry later.",
                    Duration.ofNanos(waitNanos).toSeconds() + 1);
        }
    }

    /** An organization's current minute: when it started and how many tests were asked for in it. */
    private record Window(long start, int count) {
    }
}
