package dev.auditstream.events;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.f4b6a3.ulid.Ulid;
import com.github.f4b6a3.ulid.UlidCreator;

import dev.auditstream.api.Json;
import dev.auditstream.api.Timestamps;

/**
 * The service's own audit trail: each change to an organization's log streams, retention or exports is an event in
 * that organization's log, listed and streamed like the events it sends. Written on the change's own connection, so
 * a change and its event commit together or not at all. Metadata holds names and non-secret values only: never a
 * secret's value. An installation can turn the trail off ({@code AUDITSTREAM_AUDIT_TRAIL=false}).
 */
public final class OwnEvents {

    /** A metadata value's limit, as for the events apps send (a long list of changed fields is cut to it). */
    private static final int MAX_VALUE = EventValidator.MAX_METADATA_VALUE_LENGTH;

    /** What a change was made to. */
    public record Target(String type, String id, String name) {

        public static Target logStream(String id, String name) {
            return new Target("log_stream", id, name);
        }

        public static Target organization(String id, String name) {
            return new Target("organization", id, name);
        }

        public static Target export(String id) {
            return new Target("audit_log_export", id, null);
        }
    }

    private final boolean enabled;

    public OwnEvents(boolean enabled) {
        this.enabled = enabled;
    }

    /** Appends the event in the connection's transaction (nothing when the trail is off). */
    public void record(Connection connection, String organizationId, String action, Actor actor, Target target,
                       Map<String, String> metadata) throws SQLException {
        if (enabled) {
            EventLog.insert(connection, event(organizationId, action, actor, target, metadata));
        }
    }

    /** The event as {@link EventValidator} would have normalized it: same members, same order. */
    static IncomingEvent event(String organizationId, String action, Actor actor, Target target,
                               Map<String, String> metadata) {
        // the id's time is the accept time (and, for the service's own record, the time it happened)
        Ulid id = UlidCreator.getMonotonicUlid();
        Instant now = id.getInstant();
        ObjectNode event = Json.MAPPER.createObjectNode();
        event.put("action", action);
        ObjectNode targetNode = event.putArray("targets").addObject().put("id", target.id()).put("type", target.type());
        if (target.name() != null) {
            targetNode.put("name", target.name());
        }
        ObjectNode actorNode = event.putObject("actor").put("id", actor.id()).put("type", actor.type());
        if (actor.name() != null) {
            actorNode.put("name", actor.name());
        }
        event.putObject("context").put("location", actor.location()).put("user_agent", actor.userAgent());
        event.put("occurred_at", Timestamps.iso(now));
        if (!metadata.isEmpty()) {
            ObjectNode metadataNode = event.putObject("metadata");
            // sorted, so the same change always reads the same
            new TreeMap<>(metadata).forEach((key, value) -> metadataNode.put(key,
                    value.length() > MAX_VALUE ? value.substring(0, MAX_VALUE) : value));
        }
        return new IncomingEvent(id.toString(), organizationId, action, now, now,
                actor.id(), actor.name(), List.of(target.id()), List.of(target.type()), null, event, Json.write(event));
    }
}
