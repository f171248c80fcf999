package dev.auditstream.delivery;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import dev.auditstream.destinations.Batch;

/**
 * One drain's next batch, read from the log while the previous batch is being sent (see {@link EventBatches}). It is
 * used only if the cursor moved exactly to where it starts, so a batch the destination took only in part, or a failed
 * one, discards it: order and the cursor stay as without it. Belongs to one drain (an exchange variable).
 */
public final class ReadAhead {

    private Batch.Position from;
    private CompletableFuture<Batch> next;

    /** The batch read ahead from {@code cursor}, or null (none, read from elsewhere, or its read failed). */
    Batch take(Batch.Position cursor) {
        CompletableFuture<Batch> pending = next;
        if (pending == null || !from.equals(cursor)) {
            discard();
            return null;
        }
        next = null;
        from = null;
        try {
            return pending.join();
        } catch (CompletionException e) {
            // read again by the caller, which then fails as itself if the database is really gone
            return null;
        }
    }

    void start(Batch.Position after, CompletableFuture<Batch> read) {
        discard();
        from = after;
        next = read;
    }

    /** Drops the batch read ahead; a read not yet started never runs (a started one returns its connection itself). */
    void discard() {
        if (next != null) {
            next.cancel(false);
        }
        next = null;
        from = null;
    }
}
