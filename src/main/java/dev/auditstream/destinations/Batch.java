package dev.auditstream.destinations;

import java.util.List;

/**
 * The next events of a stream: those its filters let through, read in log order after its cursor.
 *
 * @param events  the events to send
 * @param scanned the last position read, filtered-out events included
 * @param full    more events follow the last one read (the read hit its bound in rows or in bytes)
 * @param suspect the event just after the cursor that was refused alone, left out: these events are sent to learn
 *                whether the destination takes anything (then it is dead-lettered); null when none is suspected
 * @param prepared the destination's request for these events, built while the batch before was in flight; null
 *                 when it is built at the send
 */
public record Batch(List<StoredEvent> events, Position scanned, boolean full, StoredEvent suspect, Outbound prepared) {

    public Batch(List<StoredEvent> events, Position scanned, boolean full) {
        this(events, scanned, full, null);
    }

    public Batch(List<StoredEvent> events, Position scanned, boolean full, StoredEvent suspect) {
        this(events, scanned, full, suspect, null);
    }

    /** The same events with their request already built. */
    public Batch withPrepared(Outbound built) {
        return new Batch(events, scanned, full, suspect, built);
    }

    public record Position(String xid, long seq) {
    }

    /** Identity, not the events' contents: Camel hashes variable values it calls methods on. */
    @Override
    public boolean equals(Object other) {
        return this == other;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    public boolean isEmpty() {
        return events.isEmpty();
    }

    /** Where the cursor goes once the first {@code sent} events are accepted. */
    public Position positionAfter(int sent) {
        if (sent >= events.size()) {
            return scanned;
        }
        StoredEvent last = events.get(sent - 1);
        return new Position(last.xid(), last.seq());
    }
}
