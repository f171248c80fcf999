package dev.auditstream.alerts;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.auditstream.api.ApiException;
import dev.auditstream.api.Json;
import dev.auditstream.api.Validation;
import dev.auditstream.db.Transactions;
import dev.auditstream.events.Actor;
import dev.auditstream.events.OwnEvents.Target;
import dev.auditstream.events.OwnEvents;

/**
 * GET and PUT /organizations/{id}/alert_contacts: the addresses an organization's alert emails go to. A request
 * naming organization_id (and every portal call) reaches only that organization. A change is recorded as
 * {@code organization.alert_contacts_updated}, naming the changed field only (never an address).
 */
public final class AlertContacts {

    /** Most addresses one organization may name. */
    static final int MAX_EMAILS = 10;
    /** The longest address SMTP carries (RFC 5321's path limit less its angle brackets). */
    static final int MAX_EMAIL_LENGTH = 254;
    /**
     * An address as HTML's email input accepts it (WHATWG), with a dot in the domain: no display name, no quoting,
     * no spaces, commas or line breaks, so it is safe in a To header as it is.
     */
    private static final Pattern ADDRESS = Pattern.compile("[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
            + "@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+");

    private final DataSource dataSource;
    private final OwnEvents ownEvents;

    public AlertContacts(DataSource dataSource, OwnEvents ownEvents) {
        this.dataSource = dataSource;
        this.ownEvents = ownEvents;
    }

    /** Route step for GET: {@code {"object": "alert_contacts", "organization_id", "emails": [...]}}. */
    public String get(String id, String organizationId) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT alert_emails FROM organization WHERE id = ? AND (?::text IS NULL OR id = ?)")) {
            ps.setString(1, id);
            ps.setString(2, organizationId);
            ps.setString(3, organizationId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw ApiException.notFound("Organization", id);
                }
                return answer(id, List.of((String[]) rs.getArray(1).getArray()));
            }
        }
    }

    /** Route step for PUT {@code {"emails": [...]}}: replaces the list; an unchanged list records nothing. */
    public String set(String id, String organizationId, byte[] body, Actor actor) throws SQLException {
        List<String> emails = emails(Json.object(body));
        try (Connection c = dataSource.getConnection()) {
            Transactions.inTransaction(c, tx -> {
                try (PreparedStatement ps = tx.prepareStatement("""
                        UPDATE organization o SET alert_emails = ?, updated_at = now()
                        FROM (SELECT id, alert_emails FROM organization
                              WHERE id = ? AND (?::text IS NULL OR id = ?) FOR UPDATE) previous
                        WHERE o.id = previous.id
                        RETURNING previous.alert_emails, o.name""")) {
                    Array array = tx.createArrayOf("text", emails.toArray());
                    ps.setArray(1, array);
                    ps.setString(2, id);
                    ps.setString(3, organizationId);
                    ps.setString(4, organizationId);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw ApiException.notFound("Organization", id);
                        }
                        if (!List.of((String[]) rs.getArray(1).getArray()).equals(emails)) {
                            ownEvents.record(tx, id, "organization.alert_contacts_updated", actor,
                                    Target.organization(id, rs.getString(2)), Map.of("changed", "emails"));
                        }
                    }
                }
                return null;
            });
        }
        return answer(id, emails);
    }

    /** The request's addresses, each checked (422 naming {@code emails[i]}), in the order given. */
    static List<String> emails(ObjectNode request) {
        Validation errors = new Validation();
        errors.unknownFields(request, Set.of("emails"), "");
        JsonNode list = Validation.present(request.get("emails"));
        List<String> emails = new ArrayList<>();
        if (list == null) {
            errors.add("emails", "required", "emails is required: an array of addresses (empty for none).");
        } else if (!list.isArray()) {
            errors.add("emails", "invalid_type", "emails must be an array of addresses.");
        } else if (list.size() > MAX_EMAILS) {
            errors.add("emails", "too_many", "emails takes at most " + MAX_EMAILS + " addresses.");
        } else {
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < list.size(); i++) {
                String field = "emails[" + i + "]";
                JsonNode item = list.get(i);
                if (!item.isTextual()) {
                    errors.add(field, "invalid_type", field + " must be a string.");
                } else if (item.asText().length() > MAX_EMAIL_LENGTH) {
                    errors.add(field, "too_long", field + " is longer than " + MAX_EMAIL_LENGTH + " characters.");
                } else if (!ADDRESS.matcher(item.asText()).matches()) {
                    errors.add(field, "invalid_email", field + " is not an email address (name@example.com).");
                } else if (!seen.add(item.asText().toLowerCase(Locale.ROOT))) {
                    errors.add(field, "duplicate", field + " repeats an address given before.");
                } else {
                    emails.add(item.asText());
                }
            }
        }
        errors.throwIfAny();
        return emails;
    }

    private static String answer(String organizationId, List<String> emails) {
        ObjectNode answer = Json.MAPPER.createObjectNode().put("object", "alert_contacts")
                .put("organization_id", organizationId);
        emails.forEach(answer.putArray("emails")::add);
        return Json.write(answer);
    }
}
