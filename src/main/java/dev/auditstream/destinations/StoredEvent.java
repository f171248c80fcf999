package dev.auditstream.destinations;

import java.time.Instant;

/**
 * An event as read from the log for delivery: its position ({@code xid}, {@code seq}), the times destinations put on
 * it, and its JSON exactly as stored.
 */
public record StoredEvent(String xid, long seq, String id, String action, Instant occurredAt, Instant acceptedAt,
                          String json) {
}
