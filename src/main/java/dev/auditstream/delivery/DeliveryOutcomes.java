package dev.auditstream.delivery;

import dev.auditstream.destinations.Batch;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Exchange;
import org.apache.camel.Route;
import org.apache.camel.support.RoutePolicySupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.auditstream.destinations.DeliveryTarget;
import dev.auditstream.destinations.Failure;
import dev.auditstream.outbound.OutboundResponse;
import dev.auditstream.usage.UsageMetrics;

/**
 * The route policy of the delivery route: when a batch is done, records what its destination answered. Success puts
 * the stream back to {@code active}; the failure the error handler classified (variable {@code failure}) moves it
 * to {@code error} with backoff, to {@code invalid}, or isolates a refused event.
 */
public final class DeliveryOutcomes extends RoutePolicySupport {

    private static final Logger LOG = LoggerFactory.getLogger(DeliveryOutcomes.class);
    private static final String STARTED = "deliveryStartedNanos";

    private final StreamStates states;
    private final MeterRegistry metrics;
    private final DeliveryHistory history;
    private final UsageMetrics usage;

    public DeliveryOutcomes(StreamStates states, MeterRegistry metrics, DeliveryHistory history, UsageMetrics usage) {
        this.states = states;
        this.history = history;
        this.metrics = metrics;
        this.usage = usage;
    }

    @Override
    public void onExchangeBegin(Route route, Exchange exchange) {
        exchange.setVariable(STARTED, System.nanoTime());
        exchange.removeVariable("failure");
        exchange.removeVariable("sentCount");
        exchange.removeVariable("response");
        exchange.removeVariable("advancedRows");
    }

    /**
     * Route step when a claimed stream's config cannot be read (its secrets do not decrypt with this service's keys,
     * its type is unknown): the stream goes {@code invalid} with the reason, probed again at the slow interval,
     * instead of being claimed again at every poll.
     */
    public void unreadable(Exchange exchange) throws SQLException {
        Throwable caught = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        DeliveryWorkers.Claim claim = exchange.getVariable("claim", DeliveryWorkers.Claim.class);
        LOG.warn("Stream {} cannot be delivered: its configuration cannot be read", claim.streamId(), caught);
        String why = caught == null || caught.getMessage() == null ? "" : ": " + caught.getMessage();
        states.failed(claim.streamId(), claim.organizationId(), claim.token(),
                new Failure(Failure.Kind.INVALID, null, "This service cannot read the stream's configuration" + why
                        + ".", 0, 0), null, 0, 0);
    }

    /** The HTTP status a destination answered the attempt with; null for object stores. */
    static Integer status(Exchange exchange) {
        OutboundResponse response = exchange.getVariable("response", OutboundResponse.class);
        return response == null ? null : response.status();
    }

    @Override
    public void onExchangeDone(Route route, Exchange exchange) {
        Integer sent = exchange.getVariable("sentCount", Integer.class);
        Failure failure = exchange.getVariable("failure", Failure.class);
        DeliveryWorkers.Claim claim = exchange.getVariable("claim", DeliveryWorkers.Claim.class);
        if (sent == null && failure == null) {
            return; // nothing was due: no attempt to record
        }
        boolean advanced = Integer.valueOf(1).equals(exchange.getVariable("advancedRows", Integer.class));
        if (claim.lost() || (failure == null && !advanced)) {
            return; // the stream was changed or taken over meanwhile: this drain's outcome is nobody's any more
        }
        String streamId = exchange.getVariable("streamId", String.class);
        String organizationId = exchange.getVariable("organizationId", String.class);
        DeliveryTarget target = exchange.getVariable("target", DeliveryTarget.class);
        String type = target == null ? "unknown" : target.type();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - exchange.getVariable(STARTED, Long.class));
        try {
            if (failure == null) {
                Integer status = status(exchange);
                Batch batch = exchange.getVariable("batch", Batch.class);
                if (healthy(exchange.getVariable("stream", Map.class))) {
                    history.delivered(streamId, organizationId, sent, status, millis);
                } else {
                    states.delivered(streamId, organizationId, claim.token(), sent, status, millis,
                            batch == null ? null : batch.suspect());
                }
                counter("auditstream.stream.events.delivered", streamId, type).increment(sent);
                usage.delivered(organizationId, sent);
            } else {
                states.failed(streamId, organizationId, claim.token(), failure,
                        exchange.getVariable("batch", Batch.class), sent == null ? 0 : sent, millis);
                Counter.builder("auditstream.stream.attempts.failed").tag("stream", streamId).tag("type", type)
                        .tag("kind", failure.kind().name().toLowerCase()).register(metrics).increment();
            }
        } catch (SQLException e) {
            LOG.warn("Could not record the delivery outcome of stream {}: {}", streamId, e.getMessage());
        }
    }

    /** An active stream with no failures behind it and full batches: a success changes nothing but the history. */
    static boolean healthy(Map<?, ?> stream) {
        return stream != null && "active".equals(stream.get("state"))
                && ((Number) stream.get("failures")).intValue() == 0 && stream.get("batch_limit") == null
                && stream.get("suspect_event_id") == null;
    }

    private Counter counter(String name, String streamId, String type) {
        return Counter.builder(name).tag("stream", streamId).tag("type", type).register(metrics);
    }
}
