package dev.auditstream.db;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/** What a failed statement says about who is at fault: the database being away, or the data it was given. */
public final class SqlStates {

    private SqlStates() {
    }

    /**
     * The database cannot be reached or cannot work now, so the client should retry: connection failures (class 08),
     * server shutdown (57P0x), insufficient resources such as a full disk (class 53), pool time-outs.
     */
    public static boolean unreachable(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientConnectionException) {
                return true;
            }
            String state = t instanceof SQLException sql ? sql.getSQLState() : null;
            if (state != null && (state.startsWith("08") || state.startsWith("57P0") || state.startsWith("53"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * PostgreSQL refused the values themselves: a data exception (class 22, such as an invalid byte sequence or a
     * date out of range), an integrity constraint (class 23, such as a CHECK), a program limit (class 54, such as
     * an index row too large).
     */
    public static boolean refusedData(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            String state = t instanceof SQLException sql ? sql.getSQLState() : null;
            if (state != null && (state.startsWith("22") || state.startsWith("23") || state.startsWith("54"))) {
                return true;
            }
        }
        return false;
    }
}
