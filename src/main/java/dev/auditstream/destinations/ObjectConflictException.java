package dev.auditstream.destinations;

/**
 * A retried upload found its key taken by an object with other bytes (or one it may not read), in a bucket that
 * refuses to replace it: only the customer can sort that out, so the stream goes {@code invalid} with this reason.
 */
public final class ObjectConflictException extends RuntimeException {

    ObjectConflictException(String message, Throwable refusal) {
        super(message, refusal);
    }

    /** The failure for a conflict in the cause chain, or null. */
    static Failure in(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ObjectConflictException conflict) {
                return new Failure(Failure.Kind.INVALID, null, conflict.getMessage(), 0, 0);
            }
        }
        return null;
    }
}
