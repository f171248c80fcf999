package dev.auditstream.events;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import javax.sql.DataSource;

import dev.auditstream.api.Validation;
import dev.auditstream.db.Pages;

/**
 * GET /audit_logs/events: one organization's events, newest first by {@code occurred_at}, filtered by actions,
 * actors, targets and time range, paged with the last event id of the previous page as {@code after}.
 */
public final class EventQueries {

    private final DataSource dataSource;

    public EventQueries(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Route step; list parameters are comma-separated. */
    public String list(String organizationId, String actions, String actorIds, String targetIds, String rangeStart,
                       String rangeEnd, String limit, String after) throws SQLException {
        Validation errors = new Validation();
        if (organizationId == null || organizationId.isBlank()) {
            errors.add("organization_id", "required", "organization_id is required.");
        }
        OffsetDateTime start = errors.dateTime(blankToNull(rangeStart), "range_start");
        OffsetDateTime end = errors.dateTime(blankToNull(rangeEnd), "range_end");
        int size = Pages.limit(limit);
        errors.throwIfAny();
        StringBuilder sql = new StringBuilder("SELECT id, event FROM audit_event WHERE organization_id = ?");
        List<Object> params = new ArrayList<>(List.of(organizationId));
        if (actions != null && !actions.isBlank()) {
            sql.append(" AND action = ANY(?)");
            params.add(split(actions));
        }
        if (actorIds != null && !actorIds.isBlank()) {
            sql.append(" AND actor_id = ANY(?)");
            params.add(split(actorIds));
        }
        if (targetIds != null && !targetIds.isBlank()) {
            sql.append(" AND target_ids && ?");
            params.add(split(targetIds));
        }
        if (start != null) {
            sql.append(" AND occurred_at >= ?");
            params.add(start);
        }
        if (end != null) {
            sql.append(" AND occurred_at < ?");
            params.add(end);
        }
        if (after != null && !after.isBlank()) {
            sql.append(" AND (occurred_at, id) < (SELECT occurred_at, id FROM audit_event WHERE organization_id = ? AND id = ?)");
            params.add(organizationId);
            params.add(after);
        }
        sql.append(" ORDER BY occurred_at DESC, id DESC LIMIT ").append(size + 1);

        List<String[]> rows = new ArrayList<>();
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < params.size(); i++) {
                Object param = params.get(i);
                if (param instanceof String[] values) {
                    ps.setArray(i + 1, c.createArrayOf("text", values));
                } else {
                    ps.setObject(i + 1, param);
                }
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new String[] {rs.getString(1), rs.getString(2)});
                }
            }
        }
        boolean more = rows.size() > size;
        if (more) {
            rows.remove(rows.size() - 1);
        }
        StringBuilder out = new StringBuilder("{\"object\":\"list\",\"data\":[");
        for (int i = 0; i < rows.size(); i++) {
            out.append(i == 0 ? "" : ",").append(rows.get(i)[1]);
        }
        String last = more ? "\"" + rows.get(rows.size() - 1)[0] + "\"" : "null";
        String first = after != null && !after.isBlank() && !rows.isEmpty() ? "\"" + rows.get(0)[0] + "\"" : "null";
        return out.append("],\"list_metadata\":{\"before\":").append(first).append(",\"after\":").append(last)
                .append("}}").toString();
    }

    private static String[] split(String list) {
        return Arrays.stream(list.split(",")).map(String::trim).filter(v -> !v.isEmpty()).toArray(String[]::new);
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }
}
