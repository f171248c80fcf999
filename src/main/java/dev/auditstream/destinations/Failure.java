package dev.auditstream.destinations;

/**
 * Why a delivery attempt failed and what it means for the stream.
 *
 * @param acceptedBefore events at the start of the batch the destination did take (Splunk's invalid-event-number)
 * @param retryAfterSeconds the destination's Retry-After, or 0
 */
public record Failure(Kind kind, Integer httpStatus, String message, int acceptedBefore, long retryAfterSeconds) {

    public enum Kind {
        /** Retryable: connection, timeout, 408, 429, 5xx, Splunk busy. The stream goes to {@code error}. */
        RETRY,
        /** Credentials or configuration refused. The stream goes to {@code invalid}. */
        INVALID,
        /**
         * The destination refused the data (non-auth 400/413/422): isolate the event; it is dead-lettered only if the
         * events after it are accepted.
         */
        REJECTED,
        /** Our side failed (database, bug): try again soon, the stream's state does not change. */
        INTERNAL
    }

    /** How the message of a failed TLS handshake starts (the state machine tells it apart by this). */
    public static final String TLS_PREFIX = "TLS failed: ";

    /** The TLS handshake failed (certificate expired, self-signed, wrong host; no TLS at all): retried for now. */
    public static Failure tls(String problem) {
        return new Failure(Kind.RETRY, null, TLS_PREFIX + problem, 0, 0);
    }

    public boolean isTls() {
        return message != null && message.startsWith(TLS_PREFIX);
    }

    public static Failure ofStatus(int status, String message, long retryAfterSeconds) {
        return new Failure(kindOf(status), status, message, 0, retryAfterSeconds);
    }

    /** The HTTP status rules every destination starts from. */
    public static Kind kindOf(int status) {
        if (status == 408 || status == 429 || status >= 500) {
            return Kind.RETRY;
        }
        if (status == 400 || status == 413 || status == 422) {
            return Kind.REJECTED;
        }
        // 401/403 credentials, 404/410 wrong URL, 3xx redirects we do not follow, other 4xx: configuration
        return Kind.INVALID;
    }
}
