package dev.auditstream.alerts;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.auditstream.api.Json;
import dev.auditstream.api.Timestamps;

/**
 * Queues alerts, each as a row written on the connection of the change that causes it (a stream's state change, a
 * dead letter, a failed export), so an alert exists exactly when its cause committed. Emails go to the
 * organization's alert contacts: a stream turning {@code invalid}, staying {@code error} past a threshold (a periodic
 * check), dead-lettering events, and its recovery after such an email; at most one per stream and kind per window,
 * decided here against what was already queued or sent. The operator's webhook gets every state change, dead letter
 * and failed export. A channel that is not configured gets nothing queued.
 */
public final class Alerts {

    static final String EMAIL = "email";
    static final String WEBHOOK = "webhook";
    static final String STATE_CHANGED = "log_stream.state_changed";
    static final String DEAD_LETTERED = "log_stream.dead_lettered";
    static final String EXPORT_FAILED = "export.failed";

    /** The stream and organization an alert is about, as its data starts (typed values read from the database). */
    private static final String STREAM_DATA = """
            jsonb_build_object('organization_id', o.id, 'organization_name', o.name, 'stream_id', s.id,
                'stream_name', s.name, 'stream_type', s.type)""";
    /** A stream's email of this kind already queued or sent within the repeat window (milliseconds). */
    private static final String EMAILED_RECENTLY = """
            EXISTS (SELECT 1 FROM alert a WHERE a.stream_id = s.id AND a.channel = 'email' AND a.kind = ?
                      AND a.state IN ('pending', 'sent')
                      AND coalesce(a.sent_at, a.created_at) > now() - ? * interval '1 millisecond')""";

    private final DataSource dataSource;
    private final boolean email;
    private final boolean webhook;
    private final Duration errorAfter;
    private final Duration repeatAfter;
    private final int errorCheckLock;

    /**
     * @param email       whether alert emails can be sent (an SMTP server is configured)
     * @param webhook     whether the operator's webhook is configured
     * @param errorAfter  how long a stream is {@code error} before its contacts are told
     * @param repeatAfter the least time between two emails of one kind about one stream
     */
    public Alerts(DataSource dataSource, boolean email, boolean webhook, Duration errorAfter, Duration repeatAfter,
                  int errorCheckLock) {
        this.dataSource = dataSource;
        this.email = email;
        this.webhook = webhook;
        this.errorAfter = errorAfter;
        this.repeatAfter = repeatAfter;
        this.errorCheckLock = errorCheckLock;
    }

    /** A stream's state changed (in the transaction storing the change). */
    public void stateChanged(Connection c, String streamId, String from, String to, String reason)
            throws SQLException {
        if (!email && !webhook) {
            return;
        }
        ObjectNode details = Json.MAPPER.createObjectNode().put("from", from).put("to", to).put("reason", reason)
                .put("at", Timestamps.iso(Instant.now()));
        if (webhook) {
            forStream(c, WEBHOOK, STATE_CHANGED, streamId, details, "", null);
        }
        if (email && to.equals("invalid")) {
            forStream(c, EMAIL, "invalid", streamId, details, " AND NOT " + EMAILED_RECENTLY, "invalid");
        } else if (email && to.equals("active") && (from.equals("error") || from.equals("invalid"))) {
            // only a delivery moves a stream from error or invalid to active; it is news only to contacts told of
            // trouble since the stream's last recovery email
            forStream(c, EMAIL, "recovered", streamId, details, """
                     AND EXISTS (SELECT 1 FROM alert a WHERE a.stream_id = s.id AND a.channel = 'email'
                           AND a.kind IN ('error', 'invalid') AND a.state IN ('pending', 'sent')
                           AND a.id > coalesce((SELECT max(r.id) FROM alert r WHERE r.stream_id = s.id
                                                AND r.channel = 'email' AND r.kind = 'recovered'), 0))""", null);
        }
    }

    /** A stream dead-lettered an event the destination refused on its own (in the transaction recording it). */
    public void deadLettered(Connection c, String streamId, String eventId, String reason) throws SQLException {
        if (!email && !webhook) {
            return;
        }
        ObjectNode details = Json.MAPPER.createObjectNode().put("event_id", eventId).put("reason", reason)
                .put("at", Timestamps.iso(Instant.now()));
        if (webhook) {
            forStream(c, WEBHOOK, DEAD_LETTERED, streamId, details, "", null);
        }
        if (email) {
            forStream(c, EMAIL, "dead_lettered", streamId, details, " AND NOT " + EMAILED_RECENTLY, "dead_lettered");
        }
    }

    /** An export could not be written (in the transaction marking it failed): for the operator only. */
    public void exportFailed(Connection c, String exportId, String organizationId, String error) throws SQLException {
        if (!webhook) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO alert (organization_id, channel, kind, data)
                SELECT o.id, 'webhook', ?, jsonb_build_object('organization_id', o.id, 'organization_name', o.name)
                    || ?::jsonb
                FROM organization o WHERE o.id = ?""")) {
            ps.setString(1, EXPORT_FAILED);
            ps.setString(2, Json.write(Json.MAPPER.createObjectNode().put("export_id", exportId).put("error", error)
                    .put("at", Timestamps.iso(Instant.now()))));
            ps.setString(3, organizationId);
            ps.executeUpdate();
        }
    }

    /**
     * Job step: an email for each stream that has been {@code error} longer than the threshold, once per such
     * spell and no more often than the repeat window; one instance at a time (advisory lock). Returns how many.
     */
    public int longErrors() throws SQLException {
        if (!email) {
            return 0;
        }
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement("""
                WITH singleton AS (SELECT pg_try_advisory_xact_lock(?) AS held)
                INSERT INTO alert (organization_id, stream_id, channel, kind, data)
                SELECT s.organization_id, s.id, 'email', 'error', %s
                    || jsonb_build_object('from', 'error', 'to', 'error', 'reason', s.state_reason,
                                          'at', iso_ms(s.state_changed_at))
                FROM singleton, log_stream s JOIN organization o ON o.id = s.organization_id
                WHERE singleton.held AND s.state = 'error'
                  AND s.state_changed_at <= now() - ? * interval '1 millisecond'
                  AND cardinality(o.alert_emails) > 0
                  AND NOT EXISTS (SELECT 1 FROM alert a WHERE a.stream_id = s.id AND a.channel = 'email'
                                    AND a.kind = 'error' AND a.state IN ('pending', 'sent')
                                    AND a.created_at >= s.state_changed_at)
                  AND NOT %s""".formatted(STREAM_DATA, EMAILED_RECENTLY))) {
            ps.setInt(1, errorCheckLock);
            ps.setLong(2, errorAfter.toMillis());
            ps.setString(3, "error");
            ps.setLong(4, repeatAfter.toMillis());
            return ps.executeUpdate();
        }
    }

    /**
     * Queues one alert about a stream, built from the stream's row as this transaction sees it; an email only for an
     * organization with contacts, and only when {@code condition} (on {@code s}, the stream) holds.
     *
     * @param limitedKind the kind {@link #EMAILED_RECENTLY} in the condition is about, or null when it has none
     */
    private void forStream(Connection c, String channel, String kind, String streamId, ObjectNode details,
                           String condition, String limitedKind) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO alert (organization_id, stream_id, channel, kind, data)
                SELECT s.organization_id, s.id, ?, ?, %s || ?::jsonb
                FROM log_stream s JOIN organization o ON o.id = s.organization_id
                WHERE s.id = ? AND (? = 'webhook' OR cardinality(o.alert_emails) > 0)%s"""
                .formatted(STREAM_DATA, condition))) {
            ps.setString(1, channel);
            ps.setString(2, kind);
            ps.setString(3, Json.write(details));
            ps.setString(4, streamId);
            ps.setString(5, channel);
            if (limitedKind != null) {
                ps.setString(6, limitedKind);
                ps.setLong(7, repeatAfter.toMillis());
            }
            ps.executeUpdate();
        }
    }
}
