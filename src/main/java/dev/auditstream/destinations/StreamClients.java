package dev.auditstream.destinations;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One store client per stream, built once per config version. A config change or the stream's deletion closes the
 * old client (with its connection pool and credential refresher), so none pile up.
 */
final class StreamClients<C extends AutoCloseable> {

    private static final Logger LOG = LoggerFactory.getLogger(StreamClients.class);

    private record Bound<C>(int version, C client) {
    }

    private final Map<String, Bound<C>> byStream = new ConcurrentHashMap<>();

    /** The client for the stream's current config, built by {@code build} when there is none yet. */
    C client(DeliveryTarget target, Function<DeliveryTarget, C> build) {
        Bound<C> bound = byStream.get(target.streamId());
        if (bound != null && bound.version() == target.configVersion()) {
            return bound.client();
        }
        synchronized (this) {
            bound = byStream.get(target.streamId());
            if (bound != null && bound.version() == target.configVersion()) {
                return bound.client();
            }
            Bound<C> fresh = new Bound<>(target.configVersion(), build.apply(target));
            byStream.put(target.streamId(), fresh);
            if (bound != null) {
                close(bound.client());
            }
            return fresh.client();
        }
    }

    /** Closes the stream's client, if it has one: the stream was changed or deleted. */
    void evict(String streamId) {
        Bound<C> bound = byStream.remove(streamId);
        if (bound != null) {
            close(bound.client());
        }
    }

    private static void close(AutoCloseable client) {
        try {
            client.close();
        } catch (Exception e) {
            LOG.debug("Closing a replaced store client failed", e);
        }
    }
}
