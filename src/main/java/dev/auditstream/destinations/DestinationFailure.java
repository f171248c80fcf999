package dev.auditstream.destinations;

/**
 * A failure the destination code already classified, e.g. a token endpoint refusing the stream's credentials: the
 * status alone would not tell (an OAuth2 400 is a wrong client, not a refused event).
 */
public final class DestinationFailure extends Exception {

    private final transient Failure failure;

    public DestinationFailure(Failure failure) {
        // the message is the failure's, which never holds a secret
        super(failure.message(), null, false, false);
        this.failure = failure;
    }

    public Failure failure() {
        return failure;
    }
}
