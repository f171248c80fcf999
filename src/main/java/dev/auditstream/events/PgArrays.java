package dev.auditstream.events;

import java.util.List;

/** PostgreSQL array literals, so a batch can carry one text[] per row through unnest(). */
final class PgArrays {

    private PgArrays() {
    }

    static String literal(List<String> values) {
        StringBuilder out = new StringBuilder(values.size() * 16).append('{');
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            out.append('"');
            String value = values.get(i);
            for (int c = 0; c < value.length(); c++) {
                char ch = value.charAt(c);
                if (ch == '"' || ch == '\\') {
                    out.append('\\');
                }
                out.append(ch);
            }
            out.append('"');
        }
        return out.append('}').toString();
    }
}
