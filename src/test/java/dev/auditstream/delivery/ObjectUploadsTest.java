package dev.auditstream.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.auditstream.destinations.EventObjects;

/**
 * A batch's uploads to an object store: a bounded window of them in flight, refilled as each ends; the first failure
 * fails the batch only after every started upload has ended; a lost claim stops new uploads. (The uploads to real
 * stores are in ObjectStoreDeliveryTest; these pin down the window itself.)
 */
class ObjectUploadsTest {

    private static final int WINDOW = 4;

    private final ExecutorService pool = Executors.newFixedThreadPool(WINDOW * 2);
    private final ObjectUploads uploads = new ObjectUploads(null, null, pool, WINDOW);
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger mostInFlight = new AtomicInteger();
    private final AtomicInteger started = new AtomicInteger();
    private final AtomicInteger ended = new AtomicInteger();

    @AfterEach
    void stopPool() {
        pool.shutdownNow();
    }

    @Test
    void oneSlowUploadHoldsOnePlaceWhileTheOthersGoOn() throws Exception {
        CountDownLatch slowMayEnd = new CountDownLatch(1);
        Future<?> batch = pool.submit(() -> {
            uploads.uploadAll(objects(20), counted(object -> {
                if (object.key().equals("0")) {
                    await(slowMayEnd);
                }
            }), () -> true);
            return null;
        });
        // in groups of four the other three of the first group would end and the rest wait for the slow one
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ended.get() < 19 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(ended.get()).isEqualTo(19);
        assertThat(batch.isDone()).as("the batch waits for its slow upload").isFalse();
        slowMayEnd.countDown();
        batch.get(10, TimeUnit.SECONDS);
        assertThat(ended.get()).isEqualTo(20);
        assertThat(mostInFlight.get()).isLessThanOrEqualTo(WINDOW);
    }

    @Test
    void theFirstFailureFailsTheBatchOnceEveryStartedUploadHasEndedAndStartsNoMore() {
        IllegalStateException refused = new IllegalStateException("403 AccessDenied");
        assertThatThrownBy(() -> uploads.uploadAll(objects(100), counted(object -> {
            if (object.key().equals("5")) {
                throw refused;
            }
            pause(20);
        }), () -> true)).isSameAs(refused);
        assertThat(inFlight.get()).as("nothing still running when the batch fails").isZero();
        assertThat(started.get()).isLessThan(100).isEqualTo(ended.get());
    }

    @Test
    void anErrorInAnUploadFailsTheBatchRatherThanCountingAsWritten() {
        assertThatThrownBy(() -> uploads.uploadAll(objects(10), counted(object -> {
            if (object.key().equals("3")) {
                throw new OutOfMemoryError("no room for the body");
            }
        }), () -> true)).isInstanceOf(OutOfMemoryError.class);
    }

    @Test
    void aLostClaimStopsNewUploadsAfterTheWindowInFlight() throws Exception {
        AtomicInteger checks = new AtomicInteger();
        uploads.uploadAll(objects(40), counted(object -> pause(50)), () -> checks.incrementAndGet() < 2);
        assertThat(checks.get()).isEqualTo(2);
        assertThat(mostInFlight.get()).isEqualTo(WINDOW);
        assertThat(started.get()).isEqualTo(2 * WINDOW);
        assertThat(inFlight.get()).isZero();
    }

    private Consumer<EventObjects> counted(Consumer<EventObjects> upload) {
        return object -> {
            started.incrementAndGet();
            mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                upload.accept(object);
            } finally {
                inFlight.decrementAndGet();
                ended.incrementAndGet();
            }
        };
    }

    private static List<EventObjects> objects(int count) {
        return IntStream.range(0, count).mapToObj(i -> new EventObjects(Integer.toString(i), new byte[0], "")).toList();
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
