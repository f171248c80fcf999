package dev.auditstream.streams;

import dev.auditstream.delivery.StreamStates;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

import javax.sql.DataSource;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.f4b6a3.ulid.UlidCreator;

import dev.auditstream.api.ApiException;
import dev.auditstream.api.Json;
import dev.auditstream.api.Timestamps;
import dev.auditstream.api.Validation;
import dev.auditstream.destinations.ConfigChecks;
import dev.auditstream.destinations.DeliveryTarget;
import dev.auditstream.destinations.Destination;
import dev.auditstream.destinations.Destinations;
import dev.auditstream.events.Actor;
import dev.auditstream.events.OwnEvents;
import dev.auditstream.events.OwnEvents.Target;
import dev.auditstream.organizations.Organizations;

/**
 * Stream management: create, change (config, filters, pause and resume), delete and replay, always within the
 * organization the request names. Secrets are validated in clear, then stored encrypted and shown masked. Each change
 * is also an event in the organization's own log ({@link OwnEvents}), written in the change's transaction.
 */
public final class LogStreams {

    private static final Set<String> CREATE_FIELDS = Set.of("organization_id", "type", "name", "config", "filters");
    private static final Set<String> PATCH_FIELDS = Set.of("name", "config", "filters", "state");
    /** The stream, within the organization the request names (if it names one); see {@link #bindScope}. */
    private static final String IN_SCOPE = "id = ? AND (?::text IS NULL OR organization_id = ?)";

    private final DataSource dataSource;
    private final Destinations destinations;
    private final StreamSecrets secrets;
    private final Organizations organizations;
    private final StreamStates states;
    private final int maxStreamsPerOrganization;
    private final Duration signingSecretOverlap;
    private final OwnEvents ownEvents;

    public LogStreams(DataSource dataSource, Destinations destinations, StreamSecrets secrets,
                      Organizations organizations, StreamStates states, int maxStreamsPerOrganization,
                      Duration signingSecretOverlap, OwnEvents ownEvents) {
        this.ownEvents = ownEvents;
        this.states = states;
        this.maxStreamsPerOrganization = maxStreamsPerOrganization;
        this.signingSecretOverlap = signingSecretOverlap;
        this.dataSource = dataSource;
        this.destinations = destinations;
        this.secrets = secrets;
        this.organizations = organizations;
    }

    /** Route step for POST /log_streams: the created stream, with a GenericHttps signing secret shown this once. */
    public String create(byte[] body, Actor actor) throws SQLException {
        Draft draft = draft(body);
        String organizationId = draft.organizationId();
        String type = draft.type();
        String name = draft.name();
        ObjectNode config = draft.config();
        ObjectNode filters = draft.filters();
        Destination destination = destinations.get(type);
        Map<String, String> generated = draft.generated();
        List<String> missing = draft.missing();

        String id = "als_" + UlidCreator.getMonotonicUlid();
        byte[] sealed = secrets.extract(config, destination.secretPointers(), id, organizationId);
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            requireRoomForStream(c, organizationId);
            String storedName = name == null ? type : name;
            String state = missing.isEmpty() ? "active" : "inactive";
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO log_stream (id, organization_id, type, name, state, state_reason, config, secrets,
                                            filters, cursor_xid)
                    VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?::jsonb, pg_snapshot_xmin(pg_current_snapshot()))""")) {
                ps.setString(1, id);
                ps.setString(2, organizationId);
                ps.setString(3, type);
                ps.setString(4, storedName);
                ps.setString(5, state);
                ps.setString(6, missing.isEmpty() ? null : StreamStates.INCOMPLETE + String.join(", ", missing) + ".");
                ps.setString(7, Json.write(config));
                ps.setBytes(8, sealed);
                ps.setString(9, Json.write(filters));
                ps.executeUpdate();
            }
            ownEvents.record(c, organizationId, "log_stream.created", actor, Target.logStream(id, storedName),
                    Map.of("stream_type", type, "state", state));
            c.commit();
        }
        ObjectNode created = Json.object(json(id, organizationId).getBytes(StandardCharsets.UTF_8));
        generated.forEach(((ObjectNode) created.get("config"))::put);
        return Json.write(created);
    }

    /** A stream as a create request describes it, checked; its organization exists. */
    private record Draft(String organizationId, String type, String name, ObjectNode config, ObjectNode filters,
                         Map<String, String> generated, List<String> missing) {
    }

    private Draft draft(byte[] body) throws SQLException {
        ObjectNode request = Json.object(body);
        Validation errors = new Validation();
        errors.unknownFields(request, CREATE_FIELDS, "");
        String organizationId = errors.requiredString(request, "organization_id", "organization_id");
        String type = errors.requiredString(request, "type", "type");
        if (type != null && !destinations.knows(type)) {
            errors.add("type", "invalid", "type must be one of " + destinations.types() + ".");
        }
        String name = errors.optionalString(request, "name", "name", Validation.Limit.NAME);
        ObjectNode config = object(request.get("config"), "config", errors);
        ObjectNode filters = filters(request.get("filters"), errors);
        if (type == null || !destinations.knows(type)) {
            errors.throwIfAny();
        }
        Destination destination = destinations.get(type);
        readOnly(config, destination, errors);
        Map<String, String> generated = destination.generate();
        generated.forEach(config::put);
        List<String> missing = destination.check(config, new ConfigChecks(errors, destinations.guard(), destination.secretPointers()));
        errors.throwIfAny();
        organizations.requireExisting(organizationId);
        return new Draft(organizationId, type, name, config, filters, generated, missing);
    }

    /**
     * Route step for POST /log_streams/test: the destination of a stream not saved (nothing is stored), under the
     * organization's one test id; its config version follows the config, so a per-stream client is built afresh when
     * the config changes (and there is at most one per organization).
     */
    public DeliveryTarget unsavedTarget(byte[] body) throws SQLException {
        Draft draft = draft(body);
        if (!draft.missing().isEmpty()) {
            Validation errors = new Validation();
            draft.missing().forEach(member -> errors.add("config." + member, "required",
                    "config." + member + " is required to send a test event."));
            errors.throwIfAny();
        }
        return new DeliveryTarget("als_test_" + draft.organizationId(), draft.organizationId(), draft.type(),
                draft.config(), draft.config().hashCode());
    }

    /**
     * Refuses a stream beyond the organization's cap (every stream is work for the shared delivery workers). The
     * organization's row stays locked until the insert commits, so concurrent creates cannot pass the cap together.
     */
    private void requireRoomForStream(Connection c, String organizationId) throws SQLException {
        try (PreparedStatement lock = c.prepareStatement("SELECT 1 FROM organization WHERE id = ? FOR NO KEY UPDATE");
             PreparedStatement count = c.prepareStatement("SELECT count(*) FROM log_stream WHERE organization_id = ?")) {
            lock.setString(1, organizationId);
            lock.executeQuery().close();
            count.setString(1, organizationId);
            try (ResultSet rs = count.executeQuery()) {
                rs.next();
                if (rs.getLong(1) >= maxStreamsPerOrganization) {
                    throw new ApiException(422, "stream_limit_reached", "This organization already has "
                            + maxStreamsPerOrganization + " log streams, the most it may have; delete one first.",
                            List.of());
                }
            }
        }
    }

    /**
     * Route step for PATCH /log_streams/{id}. Recorded as {@code log_stream.updated} naming the fields that changed,
     * and a pause or resume as {@code log_stream.paused} / {@code log_stream.resumed}: a PATCH doing both records
     * both. A PATCH that changes nothing records nothing.
     */
    public String update(String id, String organizationId, byte[] body, Actor actor) throws SQLException {
        ObjectNode request = Json.object(body);
        Validation errors = new Validation();
        errors.unknownFields(request, PATCH_FIELDS, "");
        String name = errors.optionalString(request, "name", "name", Validation.Limit.NAME);
        String requestedState = errors.optionalString(request, "state", "state");
        if (requestedState != null && !Set.of("active", "inactive").contains(requestedState)) {
            errors.add("state", "invalid", "state can be set to 'active' (resume) or 'inactive' (pause).");
        }
        JsonNode configPatch = Validation.present(request.get("config"));
        if (configPatch != null && !configPatch.isObject()) {
            errors.add("config", "invalid_type", "config must be an object.");
        }
        ObjectNode filters = request.has("filters") ? filters(request.get("filters"), errors) : null;
        errors.throwIfAny();

        // the config is checked (which resolves its host) with no transaction open and no row locked, then written
        // if nobody changed the stream meanwhile: a slow resolver holds up neither this stream nor the watermark
        for (int attempt = 1; ; attempt++) {
            String updated = tryUpdate(id, organizationId, name, requestedState, configPatch, filters, actor);
            if (updated != null) {
                return updated;
            }
            if (attempt == 3) {
                throw new ApiException(409, "conflict", "The log stream changed while this change was checked; "
                        + "send it again.", List.of());
            }
        }
    }

    /** One attempt of {@link #update}: the stream's JSON, or null when the stream changed since it was read. */
    private String tryUpdate(String id, String organizationId, String name, String requestedState,
                             JsonNode configPatch, ObjectNode filters, Actor actor) throws SQLException {
        Map<String, Object> row;
        try (Connection c = dataSource.getConnection()) {
            row = row(c, id, organizationId, false);
        }
        Validation errors = new Validation();
        String organization = (String) row.get("organization_id");
        Destination destination = destinations.get((String) row.get("type"));
        ObjectNode config = revealedConfig(row, id);
        ObjectNode storedConfig = config.deepCopy();
        if (configPatch != null) {
            readOnly(configPatch, destination, errors);
            String url = config.path(destination.urlMember()).asText(null);
            merge(config, (ObjectNode) configPatch);
            forgetCredentialsOnNewUrl(config, url, configPatch, destination);
        }
        List<String> missing = destination.check(config,
                new ConfigChecks(errors, destinations.guard(), destination.secretPointers()));
        errors.throwIfAny();
        // compared while both hold their secrets in clear (extract masks them); only names are kept
        List<String> changedConfig = new ArrayList<>();
        changedMembers("config", storedConfig, config, changedConfig);
        byte[] sealed = secrets.extract(config, destination.secretPointers(), id, organization);

        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            Map<String, Object> locked = row(c, id, organizationId, true);
            if (!sameStream(row, locked)) {
                c.rollback();
                return null;
            }

            String from = (String) row.get("state");
            StreamStates.Change change = StreamStates.decide(from, (String) row.get("state_reason"), requestedState,
                    missing, configPatch != null);
            String to = change.to();
            String reason = change.reason();
            boolean retryNow = change.retryNow();
            try (PreparedStatement ps = c.prepareStatement("""
                    UPDATE log_stream SET name = coalesce(?, name), config = ?::jsonb, secrets = ?,
                        filters = coalesce(?::jsonb, filters),
                        config_version = config_version + CASE WHEN ? THEN 1 ELSE 0 END,
                        state = ?, state_reason = ?,
                        state_changed_at = CASE WHEN state <> ? THEN now() ELSE state_changed_at END,
                        next_attempt_at = CASE WHEN ? THEN now() ELSE next_attempt_at END,
                        failures = CASE WHEN ? THEN 0 ELSE failures END,
                        -- whoever is delivering stops before its next request and the stream is claimed afresh
                        lease_owner = NULL, lease_until = NULL, lease_token = NULL,
                        updated_at = now()
                    WHERE id = ?""")) {
                ps.setString(1, name);
                ps.setString(2, Json.write(config));
                ps.setBytes(3, sealed);
                ps.setString(4, filters == null ? null : Json.write(filters));
                ps.setBoolean(5, configPatch != null);
                ps.setString(6, to);
                ps.setString(7, reason);
                ps.setString(8, to);
                ps.setBoolean(9, retryNow);
                ps.setBoolean(10, retryNow);
                ps.setString(11, id);
                ps.executeUpdate();
            }
            if (!from.equals(to)) {
                states.transition(c, id, organization, from, to,
                        reason == null ? "Resumed." : reason);
            }
            recordUpdate(c, locked, id, actor, name, requestedState, changedConfig, filters, change);
            c.commit();
        }
        return json(id, organization);
    }

    /**
     * The events of one PATCH: the fields it changed (by name, secrets included: never a value), and a pause or
     * resume on its own; a state the config alone changed (completed, or made incomplete) goes with the fields.
     */
    private void recordUpdate(Connection c, Map<String, Object> row, String id, Actor actor, String name,
                              String requestedState, List<String> changedConfig, ObjectNode filters,
                              StreamStates.Change change) throws SQLException {
        String organization = (String) row.get("organization_id");
        String type = (String) row.get("type");
        String from = (String) row.get("state");
        String storedName = name == null ? (String) row.get("name") : name;
        Target target = Target.logStream(id, storedName);

        List<String> changed = new ArrayList<>();
        if (name != null && !name.equals(row.get("name"))) {
            changed.add("name");
        }
        changed.addAll(changedConfig);
        String storedFilters = (String) row.get("filters");
        if (filters != null && !filters.equals(Json.object(storedFilters.getBytes(StandardCharsets.UTF_8)))) {
            changed.add("filters");
        }
        boolean paused = StreamStates.PAUSED.equals(change.reason())
                && !StreamStates.PAUSED.equals(row.get("state_reason"));
        boolean resumed = "active".equals(requestedState) && from.equals("inactive") && change.to().equals("active");
        boolean stateByConfig = !from.equals(change.to()) && !paused && !resumed;
        if (!changed.isEmpty() || stateByConfig) {
            Map<String, String> metadata = new HashMap<>(Map.of("stream_type", type));
            if (!changed.isEmpty()) {
                metadata.put("changed", String.join(",", changed));
            }
            if (stateByConfig) {
                metadata.put("state_from", from);
                metadata.put("state_to", change.to());
            }
            ownEvents.record(c, organization, "log_stream.updated", actor, target, metadata);
        }
        if (paused || resumed) {
            ownEvents.record(c, organization, paused ? "log_stream.paused" : "log_stream.resumed", actor, target,
                    Map.of("stream_type", type, "state_from", from, "state_to", change.to()));
        }
    }

    /** Adds the path of each member that differs between the two objects (nested members as {@code a.b}). */
    private static void changedMembers(String path, JsonNode before, JsonNode after, List<String> changed) {
        if (before.isObject() && after.isObject()) {
            Set<String> names = new TreeSet<>();
            before.fieldNames().forEachRemaining(names::add);
            after.fieldNames().forEachRemaining(names::add);
            for (String member : names) {
                changedMembers(path + "." + member, before.path(member), after.path(member), changed);
            }
        } else if (!before.equals(after)) {
            changed.add(path);
        }
    }

    /** The same config, secrets and state as when the change was checked. */
    private static boolean sameStream(Map<String, Object> checked, Map<String, Object> now) {
        return Objects.equals(checked.get("type"), now.get("type"))
                && Objects.equals(checked.get("state"), now.get("state"))
                && Objects.equals(checked.get("state_reason"), now.get("state_reason"))
                && Objects.equals(checked.get("config"), now.get("config"))
                && Arrays.equals((byte[]) checked.get("secrets"), (byte[]) now.get("secrets"));
    }

    /**
     * Route step for POST /log_streams/{id}/signing_secret/rotate: a new signing secret, shown this once; the old
     * one signs too for the overlap.
     */
    public String rotateSigningSecret(String id, String organizationId, Actor actor) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            Map<String, Object> row = row(c, id, organizationId, true);
            String organization = (String) row.get("organization_id");
            Destination destination = destinations.get((String) row.get("type"));
            ObjectNode config = revealedConfig(row, id);
            String fresh = destination.rotateSecret(config, Instant.now().plus(signingSecretOverlap));
            if (fresh == null) {
                throw ApiException.notFound("Signing secret of a " + row.get("type") + " stream", id);
            }
            byte[] sealed = secrets.extract(config, destination.secretPointers(), id, organization);
            try (PreparedStatement ps = c.prepareStatement("""
                    UPDATE log_stream SET config = ?::jsonb, secrets = ?, config_version = config_version + 1,
                        lease_owner = NULL, lease_until = NULL, lease_token = NULL, updated_at = now()
                    WHERE id = ?""")) {
                ps.setString(1, Json.write(config));
                ps.setBytes(2, sealed);
                ps.setString(3, id);
                ps.executeUpdate();
            }
            recordOn(c, row, id, "log_stream.signing_secret_rotated", actor, Map.of());
            c.commit();
            return Json.write(Json.MAPPER.createObjectNode().put("signingSecret", fresh));
        }
    }

    /** Route step for DELETE /log_streams/{id}. */
    public void delete(String id, String organizationId, Actor actor) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(
                    "DELETE FROM log_stream WHERE " + IN_SCOPE + " RETURNING organization_id, name, type")) {
                bindScope(ps, id, organizationId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw ApiException.notFound("Log stream", id);
                    }
                    ownEvents.record(c, rs.getString(1), "log_stream.deleted", actor,
                            Target.logStream(id, rs.getString(2)), Map.of("stream_type", rs.getString(3)));
                }
            }
            c.commit();
        }
        destinations.forget(id);
    }

    /**
     * Route step for POST /log_streams/{id}/replay: delivers again everything accepted since {@code from}. With
     * nothing accepted since then nothing changes, and nothing is recorded.
     */
    public void replay(String id, String organizationId, byte[] body, Actor actor) throws SQLException {
        Validation errors = new Validation();
        OffsetDateTime since = errors.dateTime(errors.requiredString(Json.object(body), "from", "from"), "from");
        errors.throwIfAny();
        // the history is searched in a statement of its own (no transaction id, no lock), the cursor set in another
        try (Connection c = dataSource.getConnection()) {
            Map<String, Object> row = row(c, id, organizationId, false);
            String xid;
            long seq;
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT xid::text, seq FROM audit_event WHERE organization_id = ? AND accepted_at >= ?
                    ORDER BY xid, seq LIMIT 1""")) {
                ps.setString(1, (String) row.get("organization_id"));
                ps.setObject(2, since);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return; // nothing accepted since then
                    }
                    xid = rs.getString(1);
                    seq = rs.getLong(2);
                }
            }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("""
                    UPDATE log_stream SET cursor_xid = ?::xid8, cursor_seq = ? - 1, next_attempt_at = now(),
                        lease_owner = NULL, lease_until = NULL, lease_token = NULL, caught_up = false
                    WHERE id = ?""")) {
                ps.setString(1, xid);
                ps.setLong(2, seq);
                ps.setString(3, id);
                ps.executeUpdate();
            }
            recordOn(c, row, id, "log_stream.replayed", actor, Map.of("from", Timestamps.iso(since.toInstant())));
            c.commit();
        }
    }

    /** An own event about the stream of this row, with its type in the metadata. */
    private void recordOn(Connection c, Map<String, Object> row, String id, String action, Actor actor,
                          Map<String, String> metadata) throws SQLException {
        Map<String, String> withType = new HashMap<>(metadata);
        withType.put("stream_type", (String) row.get("type"));
        ownEvents.record(c, (String) row.get("organization_id"), action, actor,
                Target.logStream(id, (String) row.get("name")), withType);
    }

    /**
     * Route step for GET /log_streams/{id}/setup: what the customer pastes into the destination's own console (an
     * S3 role's policies, Sentinel's table and data collection rule).
     */
    public String setup(String id, String organizationId) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT type, config::text FROM log_stream WHERE " + IN_SCOPE)) {
            bindScope(ps, id, organizationId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw ApiException.notFound("Log stream", id);
                }
                ObjectNode setup = destinations.get(rs.getString(1))
                        .setup(Json.object(rs.getString(2).getBytes(StandardCharsets.UTF_8)));
                if (setup == null) {
                    throw ApiException.notFound("Setup for a " + rs.getString(1) + " stream", id);
                }
                return Json.write(setup);
            }
        }
    }

    private String json(String id, String organizationId) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT json FROM log_stream_json WHERE id = ? AND organization_id = ?")) {
            ps.setString(1, id);
            ps.setString(2, organizationId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** A row's config with its secrets in clear. */
    private ObjectNode revealedConfig(Map<String, Object> row, String id) {
        return secrets.reveal(Json.object(((String) row.get("config")).getBytes(StandardCharsets.UTF_8)),
                (byte[]) row.get("secrets"), id, (String) row.get("organization_id"));
    }

    /**
     * The stream's row (locked, if asked) or 404 — also when it belongs to another organization than the one named.
     */
    private static Map<String, Object> row(Connection c, String id, String organizationId, boolean lock)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT organization_id, type, state, state_reason, config::text, secrets, name, filters::text "
                        + "FROM log_stream WHERE "
                        + IN_SCOPE + (lock ? " FOR UPDATE" : ""))) {
            bindScope(ps, id, organizationId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw ApiException.notFound("Log stream", id);
                }
                Map<String, Object> row = new HashMap<>();
                row.put("organization_id", rs.getString(1));
                row.put("type", rs.getString(2));
                row.put("state", rs.getString(3));
                row.put("state_reason", rs.getString(4));
                row.put("config", rs.getString(5));
                row.put("secrets", rs.getBytes(6));
                row.put("name", rs.getString(7));
                row.put("filters", rs.getString(8));
                return row;
            }
        }
    }

    private static void bindScope(PreparedStatement ps, String id, String organizationId) throws SQLException {
        ps.setString(1, id);
        ps.setString(2, organizationId);
        ps.setString(3, organizationId);
    }

    /**
     * A config change: members set to null are removed, masked values (as a client read them back) keep the stored
     * secret, nested objects merge one level deep.
     */
    private static void merge(ObjectNode config, ObjectNode patch) {
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> member = it.next();
            JsonNode value = member.getValue();
            if (value.isNull()) {
                config.remove(member.getKey());
            } else if (StreamSecrets.isMask(value)) {
                continue;
            } else if (value.isObject() && config.path(member.getKey()).isObject()) {
                merge((ObjectNode) config.get(member.getKey()), (ObjectNode) value);
            } else {
                config.set(member.getKey(), value);
            }
        }
    }

    /**
     * A new URL drops the stored credentials that are sent to it unless the change gives them again (a masked value,
     * as a client read it back, is not given): whoever changes where events go must know the credentials, so a
     * leaked portal link cannot send the customer's token to a host of its own. The stream is then incomplete.
     */
    private static void forgetCredentialsOnNewUrl(ObjectNode config, String previousUrl, JsonNode patch,
                                                  Destination destination) {
        if (Objects.equals(previousUrl, config.path(destination.urlMember()).asText(null))) {
            return;
        }
        for (String pointer : destination.credentialsSentToUrl()) {
            JsonPointer at = JsonPointer.compile(pointer);
            JsonNode given = patch.at(at);
            if ((!given.isTextual() || StreamSecrets.isMask(given)) && config.at(at.head()) instanceof ObjectNode parent) {
                parent.remove(at.last().getMatchingProperty());
            }
        }
    }

    /** Generated members (a signing secret, an external ID) are the service's to set. */
    private static void readOnly(JsonNode config, Destination destination, Validation errors) {
        for (String member : destination.readOnlyMembers()) {
            if (config.has(member)) {
                errors.add("config." + member, "read_only", "config." + member + " is generated by the service.");
            }
        }
    }

    private static ObjectNode object(JsonNode node, String field, Validation errors) {
        node = Validation.present(node);
        if (node == null) {
            return Json.MAPPER.createObjectNode();
        }
        if (!node.isObject()) {
            errors.add(field, "invalid_type", field + " must be an object.");
            return Json.MAPPER.createObjectNode();
        }
        return ((ObjectNode) node).deepCopy();
    }

    /** {@code {"actions": ["user.*", …]}}: action names, {@code *} matching any characters. */
    private static ObjectNode filters(JsonNode node, Validation errors) {
        ObjectNode filters = object(node, "filters", errors);
        errors.unknownFields(filters, Set.of("actions"), "filters.");
        JsonNode actions = Validation.present(filters.get("actions"));
        if (actions != null) {
            if (!actions.isArray() || actions.size() > 100) {
                errors.add("filters.actions", "invalid_type", "filters.actions must be an array of at most 100 names.");
            } else {
                for (int i = 0; i < actions.size(); i++) {
                    if (!actions.get(i).isTextual() || actions.get(i).asText().isBlank()) {
                        errors.add("filters.actions[" + i + "]", "invalid", "Each action filter is a non-empty string.");
                    }
                }
            }
        }
        return filters;
    }
}
