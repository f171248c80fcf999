package dev.auditstream.observe;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Per-stream gauges for Prometheus: how far behind each stream is, which state it is in (1 for the current state, 0
 * for the others), and how many events retention deleted before it delivered them; refreshed by the observe-streams
 * job.
 */
public final class StreamGauges {

    private static final List<String> STATES = List.of("active", "inactive", "error", "invalid");

    private final MeterRegistry metrics;
    private final Map<String, AtomicLong> values = new ConcurrentHashMap<>();

    public StreamGauges(MeterRegistry metrics) {
        this.metrics = metrics;
    }

    /** Route step: @param rows id, type, state, lag (seconds), expired_undelivered of every stream */
    public void update(List<Map<String, Object>> rows) {
        Set<String> seen = ConcurrentHashMap.newKeySet();
        for (Map<String, Object> row : rows) {
            String id = (String) row.get("id");
            String type = (String) row.get("type");
            seen.add(id);
            gauge("auditstream.stream.lag.seconds", id, type, null).set(((Number) row.get("lag")).longValue());
            gauge("auditstream.stream.events.expired.undelivered", id, type, null)
                    .set(((Number) row.get("expired_undelivered")).longValue());
            for (String state : STATES) {
                gauge("auditstream.stream.state", id, type, state).set(state.equals(row.get("state")) ? 1 : 0);
            }
        }
        // a deleted stream's gauges go
        values.keySet().removeIf(key -> {
            String id = key.split("\\|")[1];
            if (seen.contains(id)) {
                return false;
            }
            metrics.getMeters().stream().filter(m -> id.equals(m.getId().getTag("stream"))).forEach(metrics::remove);
            return true;
        });
    }

    private AtomicLong gauge(String name, String id, String type, String state) {
        return values.computeIfAbsent(name + "|" + id + "|" + state, key -> {
            AtomicLong value = new AtomicLong();
            Gauge.Builder<AtomicLong> builder = Gauge.builder(name, value, AtomicLong::get)
                    .tag("stream", id).tag("type", type);
            if (state != null) {
                builder.tag("state", state);
            }
            builder.register(metrics);
            return value;
        });
    }
}
