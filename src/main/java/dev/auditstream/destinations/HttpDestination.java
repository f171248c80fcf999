package dev.auditstream.destinations;

import java.io.IOException;
import java.util.List;

/** A destination that takes a batch of events in one HTTP request. */
public interface HttpDestination extends Destination {

    /**
     * The request that delivers (a prefix of) the events. Destinations that need a token first get it here: an
     * {@link IOException} when its endpoint cannot be reached, a {@link DestinationFailure} when it refuses.
     */
    Outbound prepare(DeliveryTarget target, List<StoredEvent> events) throws IOException, DestinationFailure;

    /** What an HTTP error answer from this destination to the stream means (by default: whatever the answer says). */
    default Failure classify(DeliveryTarget target, int status, String body, long retryAfterSeconds) {
        return classify(status, body, retryAfterSeconds);
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
