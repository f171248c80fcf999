package dev.auditstream.delivery;

import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.apache.camel.Variable;

import dev.auditstream.destinations.Batch;
import dev.auditstream.destinations.DeliveryTarget;
import dev.auditstream.destinations.Destinations;
import dev.auditstream.destinations.EventObjects;
import dev.auditstream.destinations.ObjectStoreDestination;

/**
 * Writes a batch to an object store, one object per event, with at most {@code window} uploads of the stream in
 * flight: the next starts as soon as any ends (a sliding window, so one slow PUT holds up one place, not a group).
 * The first failure stops new uploads and, once those in flight have ended, fails the batch, which is sent again
 * whole (an object an earlier attempt wrote is found with the same bytes and counts as written). The claim is checked
 * once per window's worth of uploads: a batch stops starting uploads once its stream was changed, paused or taken
 * over, and its cursor advance, fenced by the claim, then writes nothing.
 */
public final class ObjectUploads {

    /** One claim check: false once the drain no longer holds its stream. */
    interface ClaimCheck {
        boolean holds() throws SQLException;
    }

    private final Destinations destinations;
    private final DeliveryWorkers workers;
    private final Executor uploads;
    private final int window;

    /** {@code uploads} runs window × delivery workers uploads at once, so no stream waits for another's. */
    public ObjectUploads(Destinations destinations, DeliveryWorkers workers, Executor uploads, int window) {
        this.destinations = destinations;
        this.workers = workers;
        this.uploads = uploads;
        this.window = window;
    }

    /** Route step: uploads the objects of variable {@code batch} (a test send has no claim). */
    public void upload(@Variable("target") DeliveryTarget target, @Variable("batch") Batch batch,
                       @Variable("claim") DeliveryWorkers.Claim claim) throws Exception {
        ObjectStoreDestination store = (ObjectStoreDestination) destinations.get(target.type());
        List<EventObjects> objects = batch.events().stream().map(event -> store.object(target, event)).toList();
        uploadAll(objects, object -> store.upload(target, object), () -> workers.holds(claim));
    }

    void uploadAll(List<EventObjects> objects, Consumer<EventObjects> upload, ClaimCheck claim) throws Exception {
        Semaphore places = new Semaphore(window);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try {
            for (int i = 0; i < objects.size() && failure.get() == null; i++) {
                if (i > 0 && i % window == 0 && !claim.holds()) {
                    break;
                }
                places.acquire();
                EventObjects object = objects.get(i);
                try {
                    uploads.execute(() -> {
                        try {
                            upload.accept(object);
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        } finally {
                            places.release();
                        }
                    });
                } catch (RejectedExecutionException stopping) {
                    places.release();
                    throw stopping;
                }
            }
        } finally {
            // every upload started has ended before the batch's outcome is known
            places.acquireUninterruptibly(window);
        }
        Throwable first = failure.get();
        if (first instanceof Exception e) {
            throw e;
        }
        if (first instanceof Error e) {
            throw e;
        }
    }
}
