package dev.auditstream.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.auditstream.destinations.Batch;

class ReadAheadTest {

    private static final Batch.Position AFTER_FIRST = new Batch.Position("770", 1000);
    private static final Batch NEXT = new Batch(List.of(), new Batch.Position("770", 2000), true);

    @Test
    void aReadStillRunningWhenTheCursorGetsThereIsWaitedFor() {
        ReadAhead ahead = new ReadAhead();
        CompletableFuture<Batch> read = new CompletableFuture<>();
        ahead.start(AFTER_FIRST, read);
        CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS).execute(() -> read.complete(NEXT));

        assertThat(ahead.take(AFTER_FIRST)).isSameAs(NEXT);
        // taken once: the next take reads afresh
        assertThat(ahead.take(NEXT.scanned())).isNull();
    }

    @Test
    void aCursorThatStoppedElsewhereDropsTheReadAhead() {
        ReadAhead ahead = new ReadAhead();
        CompletableFuture<Batch> read = new CompletableFuture<>();
        ahead.start(AFTER_FIRST, read);

        assertThat(ahead.take(new Batch.Position("770", 400))).isNull();
        assertThat(read).isCancelled();
    }

    @Test
    void aFailedReadIsReadAgainByTheCaller() {
        ReadAhead ahead = new ReadAhead();
        ahead.start(AFTER_FIRST, CompletableFuture.failedFuture(new CompletionException(new SQLException("gone"))));

        assertThat(ahead.take(AFTER_FIRST)).isNull();
    }
}
