package dev.auditstream.destinations;

import dev.auditstream.outbound.OutboundRequest;

/**
 * The HTTP request to a destination, carrying the first {@code eventCount} events of the batch it was made from
 * (fewer than given when the destination's size limits cut the batch).
 */
public record Outbound(OutboundRequest request, int eventCount) {
}
