package dev.auditstream.destinations;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.apache.camel.Exchange;
import org.apache.camel.Variable;

import dev.auditstream.outbound.AddressGuard;
import dev.auditstream.outbound.ErrorAnswerException;
import dev.auditstream.outbound.OutboundRequest;
import dev.auditstream.outbound.OutboundResponse;

/** The destination types this installation knows, and the route step that turns a batch into a request. */
public final class Destinations {

    private static final String UPLOAD_FAILURES = "auditstreamUploadFailures";

    private final Map<String, Destination> byType = new LinkedHashMap<>();
    private final AddressGuard guard;
    private final int parallelUploads;

    public Destinations(AddressGuard guard, int parallelUploads, List<Destination> destinations) {
        this.guard = guard;
        this.parallelUploads = parallelUploads;
        destinations.forEach(d -> byType.put(d.type(), d));
    }

    public Destination get(String type) {
        Destination destination = byType.get(type);
        if (destination == null) {
            throw new IllegalArgumentException("Unknown destination type " + type);
        }
        return destination;
    }

    /** Route step: true when the stream in variable {@code target} stores one object per event. */
    public boolean storesObjects(Exchange exchange) {
        return get(exchange.getVariable("target", DeliveryTarget.class).type()) instanceof ObjectStoreDestination;
    }

    /**
     * Route step: the objects for the batch in variable {@code batch}, in groups uploaded in parallel one group after
     * the other (which bounds a stream's uploads in flight).
     */
    public List<List<EventObjects>> objects(Exchange exchange) {
        DeliveryTarget target = exchange.getVariable("target", DeliveryTarget.class);
        Batch batch = exchange.getVariable("batch", Batch.class);
        ObjectStoreDestination store = (ObjectStoreDestination) get(target.type());
        List<List<EventObjects>> groups = new ArrayList<>();
        List<StoredEvent> events = batch.events();
        for (int from = 0; from < events.size(); from += parallelUploads) {
            groups.add(events.subList(from, Math.min(events.size(), from + parallelUploads)).stream()
                    .map(event -> store.object(target, event)).toList());
        }
        // shared with the uploads' copies of the exchange, which see the same property value
        exchange.setProperty(UPLOAD_FAILURES, new ConcurrentLinkedQueue<Exception>());
        return groups;
    }

    /** Route step (an upload's catch): keeps the failure for {@link #checkUploads}. */
    @SuppressWarnings("unchecked")
    public void uploadFailed(Exchange exchange) {
        exchange.getProperty(UPLOAD_FAILURES, Queue.class).add(exchange.getProperty(Exchange.EXCEPTION_CAUGHT));
    }

    /** Route step after a batch's uploads: fails the batch with the first upload failure, if any. */
    public void checkUploads(Exchange exchange) throws Exception {
        Exception failure = (Exception) exchange.getProperty(UPLOAD_FAILURES, Queue.class).peek();
        if (failure != null) {
            throw failure;
        }
    }

    /** Route step: uploads the object in the body with the stream's client. */
    public void upload(Exchange exchange) {
        DeliveryTarget target = exchange.getVariable("target", DeliveryTarget.class);
        Object body = exchange.getMessage().getBody();
        if (!(body instanceof EventObjects object)) {
            throw new IllegalStateException("not an object to upload: " + (body == null ? "null" : body.getClass()));
        }
        ((ObjectStoreDestination) get(target.type())).upload(target, object);
    }

    /** Closes what the object stores keep for a deleted stream. */
    public void forget(String streamId) {
        byType.values().stream().filter(ObjectStoreDestination.class::isInstance)
                .forEach(d -> ((ObjectStoreDestination) d).forget(streamId));
    }

    public HttpDestination http(String type) {
        return (HttpDestination) get(type);
    }

    public boolean knows(String type) {
        return byType.containsKey(type);
    }

    public Collection<String> types() {
        return byType.keySet();
    }

    /** Where destinations may be: what config checks and the outbound client hold URLs and addresses to. */
    public AddressGuard guard() {
        return guard;
    }

    /**
     * Route step: the request for a batch to the stream's HTTP destination, with how many of its events it carries
     * (built while the batch before was in flight, when the destination allows it).
     */
    public Outbound prepare(@Variable("target") DeliveryTarget target, @Variable("batch") Batch batch) throws IOException, DestinationFailure {
        if (batch.prepared() != null) {
            return batch.prepared();
        }
        return http(target.type()).prepare(target, batch.events());
    }

    /**
     * The batch with its request built, where the destination builds requests from the events and the stream's
     * configuration alone; otherwise, or when building fails (the send builds it again and fails as itself), as is.
     */
    public Batch preparedAhead(DeliveryTarget target, Batch batch) {
        if (target == null || batch.isEmpty() || !(byType.get(target.type()) instanceof HttpDestination http)
                || !http.preparesAhead()) {
            return batch;
        }
        try {
            return batch.withPrepared(http.prepare(target, batch.events()));
        } catch (IOException | DestinationFailure | RuntimeException e) {
            return batch;
        }
    }

    /** Route step after a 2xx: the destination's own check of the answer in variable {@code response}. */
    public void confirm(Exchange exchange) throws IOException, ErrorAnswerException {
        DeliveryTarget target = exchange.getVariable("target", DeliveryTarget.class);
        http(target.type()).confirm(target, exchange.getVariable("request", OutboundRequest.class),
                exchange.getVariable("response", OutboundResponse.class));
    }
}
