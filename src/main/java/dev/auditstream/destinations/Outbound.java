package dev.auditstream.destinations;

import java.util.Map;

/**
 * One HTTP request to a destination, carrying the first {@code eventCount} events of the batch it was made from
 * (fewer than given when the destination's size limits cut the batch).
 */
public record Outbound(String uri, Map<String, String> headers, byte[] body, boolean gzipped, int eventCount) {
}
