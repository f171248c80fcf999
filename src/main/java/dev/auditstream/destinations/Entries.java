package dev.auditstream.destinations;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;

/**
 * Joins per-event entries into one request body within a destination's limits: at most {@code maxEntries}, and no
 * more than {@code maxBytes} unless a single entry is larger on its own (that one is sent alone, so the destination's
 * refusal isolates it).
 */
record Entries(byte[] body, int count) {

    static Entries join(List<StoredEvent> events, Function<StoredEvent, String> entry, String open, String separator,
                        String close, int maxEntries, long maxBytes) {
        StringBuilder out = new StringBuilder(Math.min(events.size(), maxEntries) * 512).append(open);
        long bytes = open.length() + close.length();
        int count = 0;
        for (StoredEvent event : events) {
            if (count == maxEntries) {
                break;
            }
            String text = entry.apply(event);
            long size = text.getBytes(StandardCharsets.UTF_8).length + (count == 0 ? 0 : separator.length());
            if (count > 0 && bytes + size > maxBytes) {
                break;
            }
            if (count > 0) {
                out.append(separator);
            }
            out.append(text);
            bytes += size;
            count++;
        }
        return new Entries(out.append(close).toString().getBytes(StandardCharsets.UTF_8), count);
    }
}
