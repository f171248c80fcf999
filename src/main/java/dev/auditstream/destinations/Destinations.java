package dev.auditstream.destinations;

import java.net.URI;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.camel.Exchange;
import org.apache.camel.Message;

import dev.auditstream.streams.Batch;

/** The destination types this installation knows, and the route step that turns a batch into a request. */
public final class Destinations {

    private final Map<String, Destination> byType = new LinkedHashMap<>();
    private final boolean allowPrivate;

    public Destinations(boolean allowPrivate, List<Destination> destinations) {
        this.allowPrivate = allowPrivate;
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
     * Route step: the objects for the batch in variable {@code batch}, with the variables the send and the cursor
     * advance need (as {@link #prepare} sets them).
     */
    public List<EventObjects> objects(Exchange exchange) {
        DeliveryTarget target = exchange.getVariable("target", DeliveryTarget.class);
        Batch batch = exchange.getVariable("batch", Batch.class);
        ObjectStoreDestination store = (ObjectStoreDestination) get(target.type());
        List<EventObjects> objects = batch.events().stream().map(event -> store.object(target, event)).toList();
        exchange.setVariable("destinationUri", store.endpointUri(target));
        sent(exchange, batch, objects.size());
        return objects;
    }

    /** Route step: one object's message for the store's endpoint. */
    public void objectMessage(Exchange exchange) {
        DeliveryTarget target = exchange.getVariable("target", DeliveryTarget.class);
        EventObjects object = exchange.getMessage().getBody(EventObjects.class);
        ((ObjectStoreDestination) get(target.type())).headers(exchange.getMessage(), object, target);
        exchange.getMessage().setBody(object.body());
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

    public boolean allowPrivate() {
        return allowPrivate;
    }

    /**
     * Route step: the request for the batch in variable {@code batch} to the stream in variable {@code target}.
     * Sets the message to it (the message's headers were removed before), and the variables {@code destinationUri},
     * {@code sentCount} and {@code advanceXid}/{@code advanceSeq} (the cursor once it is accepted).
     */
    public void prepare(Exchange exchange) {
        DeliveryTarget target = exchange.getVariable("target", DeliveryTarget.class);
        Batch batch = exchange.getVariable("batch", Batch.class);
        Outbound outbound = http(target.type()).prepare(target, batch.events());
        ConfigChecks.requireSafe(URI.create(outbound.uri()), allowPrivate);

        Message message = exchange.getMessage();
        outbound.headers().forEach(message::setHeader);
        message.setHeader(Exchange.HTTP_METHOD, "POST");
        message.setBody(outbound.body());
        // the body is gzipped already; camel-http would gzip it again because of Content-Encoding
        exchange.setProperty(Exchange.SKIP_GZIP_ENCODING, outbound.gzipped());
        exchange.setVariable("destinationUri", outbound.uri());
        sent(exchange, batch, outbound.eventCount());
    }

    private static void sent(Exchange exchange, Batch batch, int count) {
        exchange.setVariable("sentCount", count);
        Batch.Position next = batch.positionAfter(count);
        exchange.setVariable("advanceXid", next.xid());
        exchange.setVariable("advanceSeq", next.seq());
    }
}
