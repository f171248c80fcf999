package dev.auditstream.outbound;

/** A destination address the service will not send to: the stream's configuration must change. */
public final class UnsafeDestinationException extends RuntimeException {

    public UnsafeDestinationException(String message) {
        super(message);
    }
}
