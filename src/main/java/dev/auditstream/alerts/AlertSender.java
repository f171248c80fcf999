package dev.auditstream.alerts;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.mail.MailConstants;

import dev.auditstream.api.Json;
import dev.auditstream.api.Timestamps;
import dev.auditstream.delivery.StreamStates;
import dev.auditstream.destinations.GenericHttps;
import dev.auditstream.outbound.ErrorAnswerException;
import dev.auditstream.outbound.OutboundHttp;
import dev.auditstream.outbound.OutboundRequest;

/**
 * The steps of the alert sender route: an email alert becomes a mail message (every header set here from typed
 * values), a webhook alert is sent signed as GenericHttps streams sign; each claimed alert is then marked sent,
 * dropped (its channel is not configured any more, or its organization has no contacts left) or rescheduled with
 * backoff until it has had its attempts. Every mark requires the claim's token, so an alert whose lease another
 * instance took over is marked by that one only.
 */
public final class AlertSender {

    /** Where the email's link points: the portal page, which opens with a live session or says how to get one. */
    private static final String PORTAL_PATH = "/portal/log-streams";
    private static final int MAX_ERROR = 1000;

    /** The operator's webhook: its URL and Standard Webhooks signing secret ({@code whsec_<base64>}). */
    public record Webhook(URI url, String secret) {
    }

    private final DataSource dataSource;
    private final String mailFrom; // null: no SMTP server configured
    private final String publicUrl;
    private final OutboundHttp http;
    private final Webhook webhook; // null: none configured
    private final Duration backoffBase;
    private final Duration backoffMax;
    private final int maxAttempts;

    public AlertSender(DataSource dataSource, String mailFrom, String publicUrl, OutboundHttp http, Webhook webhook,
                       Duration backoffBase, Duration backoffMax, int maxAttempts) {
        this.dataSource = dataSource;
        this.mailFrom = mailFrom;
        this.publicUrl = publicUrl;
        this.http = http;
        this.webhook = webhook;
        this.backoffBase = backoffBase;
        this.backoffMax = backoffMax;
        this.maxAttempts = maxAttempts;
    }

    /**
     * Route step for an email alert (variable {@code alert}, the claimed row): the HTML body, with the plain text as
     * its alternative, and From, To and Subject as the only headers. Variable {@code mailTo} is null when there is
     * no one to send it to (then the alert is dropped).
     */
    public String email(Exchange exchange) throws SQLException {
        Map<?, ?> alert = exchange.getVariable("alert", Map.class);
        Message message = exchange.getMessage();
        message.removeHeaders("*");
        List<String> to = mailFrom == null ? List.of() : contacts((String) alert.get("organization_id"));
        exchange.setVariable("mailTo", to.isEmpty() ? null : String.join(", ", to));
        if (to.isEmpty()) {
            return null;
        }
        AlertMessages.Mail mail = AlertMessages.compose((String) alert.get("kind"), data(alert),
                publicUrl + PORTAL_PATH);
        message.setHeader("From", mailFrom);
        message.setHeader("To", String.join(", ", to));
        message.setHeader("Subject", mail.subject());
        message.setHeader(MailConstants.MAIL_ALTERNATIVE_BODY, mail.text());
        return mail.html();
    }

    /**
     * Route step for a webhook alert: {@code {"type", "timestamp", "data"}} to the operator's webhook, with
     * {@code webhook-id} (the same on every retry of the alert), {@code webhook-timestamp} and
     * {@code webhook-signature}. Returns false when no webhook is configured (the alert is dropped).
     */
    public boolean webhook(Map<String, Object> alert) throws IOException, ErrorAnswerException {
        if (webhook == null) {
            return false;
        }
        ObjectNode payload = Json.MAPPER.createObjectNode().put("type", (String) alert.get("kind"))
                .put("timestamp", Timestamps.iso(Instant.now()));
        payload.set("data", data(alert));
        byte[] body = Json.write(payload).getBytes(StandardCharsets.UTF_8);
        String id = "msg_alert_" + alert.get("id");
        String timestamp = String.valueOf(Instant.now().getEpochSecond());
        http.send(OutboundRequest.post(webhook.url(), List.of(
                OutboundRequest.header("Content-Type", "application/json"),
                OutboundRequest.header("webhook-id", id),
                OutboundRequest.header("webhook-timestamp", timestamp),
                OutboundRequest.header("webhook-signature",
                        "v1," + GenericHttps.sign(webhook.secret(), id, timestamp, body))), body));
        return true;
    }

    /** Route step: the destination took the alert. */
    public void sent(Map<String, Object> alert) throws SQLException {
        mark(alert, "state = 'sent', sent_at = now()", null);
    }

    /** Route step: nothing to send it with, or no one to send it to. */
    public void dropped(Map<String, Object> alert) throws SQLException {
        mark(alert, "state = 'dropped'", null);
    }

    /** Route step after a failed send: tried again after a backoff, or given up after the last attempt. */
    public void failed(Map<String, Object> alert, Exception failure) throws SQLException {
        int attempts = ((Number) alert.get("attempts")).intValue();
        Duration wait = StreamStates.backoff(attempts - 1, backoffBase, backoffMax, 0, ThreadLocalRandom.current());
        String error = String.valueOf(failure == null ? "unknown" : failure.getMessage());
        mark(alert, "state = CASE WHEN attempts >= %d THEN 'failed' ELSE 'pending' END, last_error = ?,"
                .formatted(maxAttempts) + " next_attempt_at = now() + %d * interval '1 millisecond'"
                .formatted(wait.toMillis()), error.length() > MAX_ERROR ? error.substring(0, MAX_ERROR) : error);
    }

    private void mark(Map<String, Object> alert, String set, String error) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE alert SET " + set + ", lease_owner = NULL, lease_until = NULL, lease_token = NULL"
                        + " WHERE id = ? AND lease_token = ?::uuid")) {
            int i = 1;
            if (error != null) {
                ps.setString(i++, error);
            }
            ps.setLong(i++, ((Number) alert.get("id")).longValue());
            ps.setString(i, (String) alert.get("token"));
            ps.executeUpdate();
        }
    }

    private List<String> contacts(String organizationId) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT alert_emails FROM organization WHERE id = ?")) {
            ps.setString(1, organizationId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return List.of();
                }
                Array emails = rs.getArray(1);
                return List.of((String[]) emails.getArray());
            }
        }
    }

    private static JsonNode data(Map<?, ?> alert) {
        return Json.object(((String) alert.get("data")).getBytes(StandardCharsets.UTF_8));
    }
}
