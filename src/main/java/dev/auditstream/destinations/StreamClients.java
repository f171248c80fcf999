package dev.auditstream.destinations;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import org.apache.camel.CamelContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One store client per stream, built once per config version and bound in the Camel registry for that stream's
 * endpoint. A config change closes the old client and removes its endpoint, so neither piles up.
 */
final class StreamClients<C extends AutoCloseable> {

    private static final Logger LOG = LoggerFactory.getLogger(StreamClients.class);

    private record Bound<C>(int version, C client, String uri) {
    }

    private final CamelContext context;
    private final String prefix;
    private final Map<String, Bound<C>> byStream = new ConcurrentHashMap<>();

    StreamClients(CamelContext context, String prefix) {
        this.context = context;
        this.prefix = prefix;
    }

    /**
     * The endpoint URI for the stream's current config; {@code uri} gets the registry name its client is bound to.
     */
    String endpoint(DeliveryTarget target, Function<DeliveryTarget, C> build, Function<String, String> uri) {
        Bound<C> bound = byStream.get(target.streamId());
        if (bound != null && bound.version() == target.configVersion()) {
            return bound.uri();
        }
        synchronized (this) {
            bound = byStream.get(target.streamId());
            if (bound != null && bound.version() == target.configVersion()) {
                return bound.uri();
            }
            if (bound != null) {
                retire(bound);
            }
            String name = prefix + "-" + target.streamId();
            C client = build.apply(target);
            context.getRegistry().bind(name, client);
            Bound<C> fresh = new Bound<>(target.configVersion(), client, uri.apply(name));
            byStream.put(target.streamId(), fresh);
            return fresh.uri();
        }
    }

    private void retire(Bound<C> bound) {
        try {
            context.removeEndpoints(bound.uri());
            bound.client().close();
        } catch (Exception e) {
            LOG.debug("Retiring a replaced store client failed", e);
        }
    }
}
