package dev.auditstream.events;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An event that passed validation, ready for the log.
 *
 * @param event     the normalized event without its id (what schemas validate)
 * @param bodyJson  {@code event} serialized; {@code json()} prefixes the id to it, the idempotency hash covers it
 */
public record IncomingEvent(
        String id,
        String organizationId,
        String action,
        Instant occurredAt,
        Instant acceptedAt,
        String actorId,
        String actorName,
        List<String> targetIds,
        List<String> targetTypes,
        Integer version,
        ObjectNode event,
        String bodyJson) {

    /** The event as stored, delivered and exported: {@code {"id": …, "action": …, …}}. */
    public String json() {
        return "{\"id\":\"" + id + "\"," + bodyJson.substring(1);
    }
}
