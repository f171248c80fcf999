package dev.auditstream.streams;

import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * This instance's delivery workers: its lease owner name, and how many streams it may still claim so that a claimed
 * stream never waits for a worker while its lease runs.
 */
public final class StreamWorkers {

    private final String owner = "instance-" + UUID.randomUUID();
    private final int workers;
    private final AtomicInteger busy = new AtomicInteger();

    public StreamWorkers(int workers) {
        this.workers = workers;
    }

    public String owner() {
        return owner;
    }

    public int freeSlots() {
        return Math.max(0, workers - busy.get());
    }

    public void claimed(int streams) {
        busy.addAndGet(streams);
    }

    public void released() {
        busy.decrementAndGet();
    }
}
