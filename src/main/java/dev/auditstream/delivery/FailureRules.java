package dev.auditstream.delivery;

import java.time.Duration;
import java.time.Instant;
import java.util.regex.Pattern;

import dev.auditstream.destinations.Failure;

/** What a failure means in the light of the stream's recent history. */
final class FailureRules {

    /** A certificate problem this long is not a blip: only the destination's owner can fix it. */
    static final Duration TLS_GRACE = Duration.ofHours(1);

    /** Answers that say the request's credentials or signature were refused, whatever the status. */
    private static final Pattern AUTH_LIKE = Pattern.compile(
            "(?i)signature|auth|token|credential|api[ _-]?key|forbidden|permission|denied|secret");

    private FailureRules() {
    }

    /**
     * The failure, or {@code invalid} with the certificate problem as reason when TLS has failed for an hour: the
     * stream has been in {@code error} that long and its last failure was TLS too.
     */
    static Failure persisting(Failure failure, String state, Instant stateChangedAt, String lastError, Instant now) {
        boolean persists = failure.isTls() && "error".equals(state) && lastError != null
                && lastError.startsWith(Failure.TLS_PREFIX)
                && !stateChangedAt.plus(TLS_GRACE).isAfter(now);
        return persists ? new Failure(Failure.Kind.INVALID, null, failure.message()
                + " (for more than an hour: the destination's certificate must be fixed)", 0, 0) : failure;
    }

    /**
     * The state for a destination that refused the events after a refused event too: no event is to blame, so it
     * is {@code invalid} when the answer speaks of credentials or signatures, else {@code error}.
     */
    static String stateWhenEverythingIsRefused(String message) {
        return message != null && AUTH_LIKE.matcher(message).find() ? "invalid" : "error";
    }
}
