package dev.auditstream.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** One explicit transaction on a connection, and the advisory locks that keep a job to one instance at a time. */
public final class Transactions {

    /** Work done inside the transaction; what it returns is returned once the transaction committed. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private Transactions() {
    }

    /** Runs the work in a transaction of its own on this connection: committed if it returns, rolled back if not. */
    public static <T> T inTransaction(Connection connection, Work<T> work) throws SQLException {
        connection.setAutoCommit(false);
        try {
            T result = work.run(connection);
            connection.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
    }

    /** Takes the advisory lock for the rest of the transaction if no other session holds it; false if one does. */
    public static boolean tryAdvisoryLock(Connection connection, long lock) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("SELECT pg_try_advisory_xact_lock(?)")) {
            ps.setLong(1, lock);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }
}
