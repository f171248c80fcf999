package dev.auditstream.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import javax.sql.DataSource;

import dev.auditstream.api.ApiException;
import dev.auditstream.api.FieldError;

/**
 * WorkOS list responses with cursor pagination ({@code limit}, {@code before}, {@code after}, {@code order}) over
 * a relation that has a {@code json} column and a unique, ordered cursor column. Relation and column names come from
 * the routes, never from a request; a relation may be a set-returning function of one bound argument.
 */
public final class Pages {

    public static final int DEFAULT_LIMIT = 10;
    public static final int MAX_LIMIT = 100;

    private final DataSource dataSource;

    public Pages(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Route step: one page of {@code relation}, restricted to rows where {@code filterColumn = filterValue} when
     * both are given.
     */
    public String list(String relation, String cursorColumn, String cursorType, String filterColumn, String filterValue,
                       String limit, String before, String after, String order) throws SQLException {
        return page(relation, List.of(), cursorColumn, cursorType, filterColumn, filterValue, limit, before, after, order);
    }

    /**
     * Route step: one page of a set-returning function called with {@code argument} in place of the one {@code ?}
     * in {@code relation}, e.g. {@code usage_json(?::date)}.
     */
    public String listOf(String relation, String argument, String cursorColumn, String cursorType, String limit,
                         String before, String after, String order) throws SQLException {
        return page(relation, List.of(argument), cursorColumn, cursorType, null, null, limit, before, after, order);
    }

    private String page(String relation, List<String> relationArguments, String cursorColumn, String cursorType,
                        String filterColumn, String filterValue, String limit, String before, String after,
                        String order) throws SQLException {
        int size = limit(limit);
        boolean ascending = ascending(order);
        boolean backwards = before != null && !before.isBlank();
        String cursor = backwards ? before : after;
        boolean hasCursor = cursor != null && !cursor.isBlank();
        // Walking backwards from `before` reads in the opposite order, then flips the page.
        boolean readAscending = ascending != backwards;

        StringBuilder sql = new StringBuilder("SELECT ").append(cursorColumn).append("::text, json FROM ").append(relation);
        List<String> params = new ArrayList<>(relationArguments);
        String joiner = " WHERE ";
        // an absent filter value lists everything (the API key acts for every organization)
        if (filterColumn != null && filterValue != null) {
            sql.append(joiner).append(filterColumn).append(" = ?");
            params.add(filterValue);
            joiner = " AND ";
        }
        if (hasCursor) {
            sql.append(joiner).append(cursorColumn).append(readAscending ? " > " : " < ").append("?::").append(cursorType);
            params.add(cursor);
        }
        sql.append(" ORDER BY ").append(cursorColumn).append(readAscending ? " ASC" : " DESC").append(" LIMIT ").append(size + 1);

        List<String[]> rows = new ArrayList<>();
        try (Connection connection = dataSource.getConnection();
             PreparedStatement ps = connection.prepareStatement(sql.toString())) {
            for (int i = 0; i < params.size(); i++) {
                ps.setString(i + 1, params.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new String[] {rs.getString(1), rs.getString(2)});
                }
            }
        } catch (SQLException e) {
            if ("22P02".equals(e.getSQLState())) {
                throw ApiException.invalid(List.of(FieldError.of(backwards ? "before" : "after", "invalid",
                        "Not a cursor of this list.")));
            }
            throw e;
        }
        boolean more = rows.size() > size;
        if (more) {
            rows.remove(rows.size() - 1);
        }
        if (backwards) {
            Collections.reverse(rows);
        }
        String first = rows.isEmpty() ? null : rows.get(0)[0];
        String last = rows.isEmpty() ? null : rows.get(rows.size() - 1)[0];
        String beforeCursor = backwards ? (more ? first : null) : (hasCursor ? first : null);
        String afterCursor = backwards ? last : (more ? last : null);

        StringBuilder out = new StringBuilder("{\"object\":\"list\",\"data\":[");
        for (int i = 0; i < rows.size(); i++) {
            out.append(i == 0 ? "" : ",").append(rows.get(i)[1]);
        }
        return out.append("],\"list_metadata\":{\"before\":").append(quoted(beforeCursor))
                .append(",\"after\":").append(quoted(afterCursor)).append("}}").toString();
    }

    /** {@code limit} as the API takes it: 1 to 100, 10 when absent. */
    public static int limit(String limit) {
        if (limit == null || limit.isBlank()) {
            return DEFAULT_LIMIT;
        }
        try {
            int value = Integer.parseInt(limit.trim());
            if (value >= 1 && value <= MAX_LIMIT) {
                return value;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw ApiException.invalid(List.of(FieldError.of("limit", "out_of_range",
                "limit must be an integer between 1 and " + MAX_LIMIT + ".")));
    }

    private static boolean ascending(String order) {
        if (order == null || order.isBlank() || order.equals("desc")) {
            return false;
        }
        if (order.equals("asc")) {
            return true;
        }
        throw ApiException.invalid(List.of(FieldError.of("order", "invalid", "order must be 'asc' or 'desc'.")));
    }

    /** Cursor values are ids and numbers; JSON-quote them without a mapper. */
    private static String quoted(String value) {
        return value == null ? "null" : "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
