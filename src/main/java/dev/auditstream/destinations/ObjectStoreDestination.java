package dev.auditstream.destinations;

/**
 * A destination that stores one object per event (S3, Google Cloud Storage). Uploads of a batch run in parallel;
 * the cursor passes the batch only when every object of it is written. Objects are created only where absent, and a
 * retried upload that finds its object already there with the same bytes counts as written: buckets that keep
 * objects (retention policies, Object Lock, create-if-absent policies) refuse the overwrite.
 */
public interface ObjectStoreDestination extends Destination {

    /** The object for one event. */
    EventObjects object(DeliveryTarget target, StoredEvent event);

    /**
     * Writes the object with the stream's cached client, unless it is already stored with the same bytes; throws the
     * store's refusal, or {@link ObjectConflictException} when another object holds the key.
     */
    void upload(DeliveryTarget target, EventObjects object);

    /** What a failed upload means for the stream; null when the failure is not the store's answer. */
    Failure classify(Throwable failure, DeliveryTarget target);

    /** Closes the stream's client: the stream was deleted. */
    void forget(String streamId);
}
