package dev.auditstream.delivery;

import java.io.IOException;

import javax.net.ssl.SSLException;

import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.auditstream.destinations.ConfigChecks;
import dev.auditstream.destinations.DeliveryTarget;
import dev.auditstream.destinations.DestinationFailure;
import dev.auditstream.destinations.Destinations;
import dev.auditstream.destinations.Failure;
import dev.auditstream.destinations.HttpDestination;
import dev.auditstream.destinations.ObjectStoreDestination;
import dev.auditstream.outbound.ErrorAnswerException;
import dev.auditstream.outbound.OutboundResponse;
import dev.auditstream.outbound.RetryAfter;
import dev.auditstream.outbound.UnsafeDestinationException;

/**
 * The delivery error handler's step (routeConfiguration "delivery"): what the exception a delivery failed with
 * means for the stream, left in variable {@code failure} for the route policy that records it.
 */
public final class DeliveryFailures {

    private static final Logger LOG = LoggerFactory.getLogger(DeliveryFailures.class);

    private final Destinations destinations;

    public DeliveryFailures(Destinations destinations) {
        this.destinations = destinations;
    }

    /** Error handler step: what the failure just caught means for the stream in variable {@code target}. */
    public Failure classify(Exchange exchange) {
        Throwable caught = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        return failureOf(caught, exchange.getVariable("target", DeliveryTarget.class));
    }

    Failure failureOf(Throwable caught, DeliveryTarget target) {
        DestinationFailure classified = cause(caught, DestinationFailure.class);
        if (classified != null) {
            return classified.failure();
        }
        ErrorAnswerException refused = cause(caught, ErrorAnswerException.class);
        if (refused != null && target != null) {
            OutboundResponse answer = refused.answer();
            return destinations.http(target.type()).classify(target, answer.status(), answer.text(),
                    answer.retryAfterSeconds());
        }
        if (target != null && destinations.get(target.type()) instanceof ObjectStoreDestination store) {
            Failure failure = store.classify(caught, target);
            if (failure != null) {
                return failure;
            }
        }
        UnsafeDestinationException unsafe = cause(caught, UnsafeDestinationException.class);
        if (unsafe != null) {
            return new Failure(Failure.Kind.INVALID, null, unsafe.getMessage(), 0, 0);
        }
        // the destination knows some failures better (a refused TLS client certificate)
        IOException io = cause(caught, IOException.class);
        if (io != null && target != null && destinations.get(target.type()) instanceof HttpDestination http) {
            Failure failure = http.classify(target, io);
            if (failure != null) {
                return failure;
            }
        }
        SSLException tls = cause(caught, SSLException.class);
        if (tls != null) {
            return Failure.tls(ConfigChecks.abbreviate(String.valueOf(tls.getMessage())));
        }
        if (io != null) {
            // connection refused, reset, time-out, DNS: the destination or the way to it, for now
            return new Failure(Failure.Kind.RETRY, null, io.getClass().getSimpleName()
                    + (io.getMessage() == null ? "" : ": " + ConfigChecks.abbreviate(io.getMessage())), 0, 0);
        }
        String what = caught == null ? "unknown failure" : caught.getClass().getSimpleName();
        // not the destination's doing: the operator needs the whole story (secrets never reach exception messages)
        LOG.warn("Delivery failed inside the service", caught);
        return new Failure(Failure.Kind.INTERNAL, null, "Delivery failed inside the service (" + what + ")", 0, 0);
    }

    /** The first throwable of the type in the cause chain, or null. */
    private static <T extends Throwable> T cause(Throwable caught, Class<T> type) {
        for (Throwable t = caught; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }
}
