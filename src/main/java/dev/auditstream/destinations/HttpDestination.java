package dev.auditstream.destinations;

import java.io.IOException;
import java.util.List;

import dev.auditstream.outbound.ErrorAnswerException;
import dev.auditstream.outbound.OutboundRequest;
import dev.auditstream.outbound.OutboundResponse;

/** A destination that takes a batch of events in one HTTP request. */
public interface HttpDestination extends Destination {

    /**
     * The request that delivers (a prefix of) the events. Destinations that need a token first get it here: an
     * {@link IOException} when its endpoint cannot be reached, a {@link DestinationFailure} when it refuses.
     */
    Outbound prepare(DeliveryTarget target, List<StoredEvent> events) throws IOException, DestinationFailure;

    /**
     * True when {@link #prepare} depends on nothing but the events and the stream's configuration (no clock, no
     * token that may expire), so a batch's request may be built while the batch before it is in flight.
     */
    default boolean preparesAhead() {
        return false;
    }

    /** What an HTTP error answer from this destination to the stream means (by default: whatever the answer says). */
    default Failure classify(DeliveryTarget target, int status, String body, long retryAfterSeconds) {
        return classify(status, body, retryAfterSeconds);
    }

    /**
     * Checks a 2xx answer before the events count as delivered; an {@link ErrorAnswerException} when its body says
     * they were not taken after all (then classified by {@link #classify}). By default the status is the answer.
     */
    default void confirm(DeliveryTarget target, OutboundRequest request, OutboundResponse answer)
            throws IOException, ErrorAnswerException {
        // 2xx is accepted
    }

    /**
     * What a failure to reach this destination means for the stream, when the destination knows better than "retry
     * later" (a refused TLS client certificate); null otherwise.
     */
    default Failure classify(DeliveryTarget target, IOException failure) {
        return null;
    }

    /** What an HTTP error answer from this destination means. */
    default Failure classify(int status, String body, long retryAfterSeconds) {
        return Failure.ofStatus(status, "HTTP " + status + ": " + ConfigChecks.abbreviate(body), retryAfterSeconds);
    }
}
