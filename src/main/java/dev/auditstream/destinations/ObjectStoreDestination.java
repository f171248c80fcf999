package dev.auditstream.destinations;

import org.apache.camel.Message;

/**
 * A destination that stores one object per event (S3, Google Cloud Storage). Uploads of a batch run in parallel;
 * the cursor passes the batch only when every object of it is written, and a retry overwrites the same keys.
 */
public interface ObjectStoreDestination extends Destination {

    /** The object for one event. */
    EventObjects object(DeliveryTarget target, StoredEvent event);

    /** The Camel endpoint that writes this stream's objects, with the stream's cached client. */
    String endpointUri(DeliveryTarget target);

    /** The endpoint's headers for one object. */
    void headers(Message message, EventObjects object, DeliveryTarget target);

    /** What a failed upload means for the stream; null when the failure is not the store's answer. */
    Failure classify(Throwable failure, DeliveryTarget target);
}
