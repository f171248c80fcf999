package dev.auditstream.delivery;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import org.apache.camel.support.service.ServiceSupport;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.auditstream.db.Database;

/**
 * Wakes the claim of due streams as soon as events commit, on every instance, instead of at the next poll: a trigger
 * on {@code audit_event} notifies this installation's channel once per insert statement, and PostgreSQL delivers the
 * notification only when its transaction commits. This listener holds a connection of its own (a LISTEN ties its
 * session up), waits on it on a daemon thread, and sends one wake-up per read however many notifications came in
 * (the claim's queue coalesces them further). Before waking, it clears the caught-up mark of the streams of the
 * organizations the notifications name, so the claim looks into the log for those streams only (see
 * {@link IdleStreams}). After any failure (a database restart, a terminated session) it connects again after a delay,
 * clears every stream's mark and wakes once: events may have committed while it was not listening.
 */
public final class CommitWakeups extends ServiceSupport {

    /** How the session shows in {@code pg_stat_activity}. */
    public static final String APPLICATION_NAME = "auditstream-wakeups";

    private static final Logger LOG = LoggerFactory.getLogger(CommitWakeups.class);
    /** The trigger's channel, for the schema this role's {@code audit_event} is in (see V9__delivery_wakeups.sql). */
    private static final String CHANNEL = """
            SELECT audit_event_channel(n.nspname)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.oid = 'audit_event'::regclass""";
    /** How long one wait for notifications lasts; a connection silent that long is checked (a server gone quiet). */
    private static final int WAIT_MILLIS = 10_000;
    private static final int CHECK_SECONDS = 5;
    /** A notification's payload when the organizations would not fit (see V9__delivery_wakeups.sql). */
    private static final String EVERY_ORGANIZATION = "*";

    private final Database database;
    private final ClaimPasses claimPasses;
    private final Duration reconnectDelay;
    private final Duration minInterval;
    private final long idleLock;
    private volatile boolean running;
    private volatile boolean listening;
    private volatile Connection connection;
    private Thread thread;

    /** @param idleLock the advisory lock between marking streams caught up and clearing the marks */
    public CommitWakeups(Database database, ClaimPasses claimPasses, Duration reconnectDelay, Duration minInterval,
                         long idleLock) {
        this.idleLock = idleLock;
        this.database = database;
        this.claimPasses = claimPasses;
        this.reconnectDelay = reconnectDelay;
        this.minInterval = minInterval;
    }

    @Override
    protected void doStart() {
        running = true;
        thread = new Thread(this::run, "delivery-wakeups");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    protected void doStop() throws Exception {
        running = false;
        thread.interrupt();
        closeConnection(); // ends a wait in progress
        thread.join(5_000);
    }

    private void run() {
        boolean failing = false;
        while (running) {
            try (Connection listening = database.openDedicated(APPLICATION_NAME)) {
                connection = listening;
                String channel = listen(listening);
                if (failing) {
                    LOG.info("Delivery wake-ups are listening on {} again", channel);
                    failing = false;
                }
                markWoken(listening, Set.of(EVERY_ORGANIZATION));
                this.listening = true;
                claimPasses.request();
                PGConnection notifications = listening.unwrap(PGConnection.class);
                while (running) {
                    PGNotification[] received = notifications.getNotifications(WAIT_MILLIS);
                    if (received != null && received.length > 0) {
                        markWoken(listening, organizations(received));
                        claimPasses.request();
                        // notifications meanwhile wait in the connection and make one wake-up after the interval
                        Thread.sleep(minInterval.toMillis());
                    } else if (!listening.isValid(CHECK_SECONDS)) {
                        throw new SQLException("the connection no longer answers");
                    }
                }
            } catch (InterruptedException e) {
                // stopping
                Thread.currentThread().interrupt();
                return;
            } catch (SQLException | RuntimeException e) {
                // once per outage: the claim timer delivers meanwhile
                if (running && !failing) {
                    LOG.warn("Delivery wake-ups have no database connection ({}); trying again every {}",
                            e.getMessage(), reconnectDelay);
                }
                failing = true;
            } finally {
                this.listening = false;
                connection = null;
            }
            pause();
        }
    }

    private static String listen(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            String channel;
            try (ResultSet rs = statement.executeQuery(CHANNEL)) {
                rs.next();
                channel = rs.getString(1);
            }
            statement.execute("LISTEN \"" + channel.replace("\"", "\"\"") + "\"");
            return channel;
        }
    }

    /**
     * True while every commit's notification reaches this instance: only then may a stream be marked caught up, as
     * only then does a later commit clear the mark.
     */
    public boolean listening() {
        return listening;
    }

    private static Set<String> organizations(PGNotification[] received) {
        Set<String> named = new HashSet<>();
        for (PGNotification notification : received) {
            named.addAll(Arrays.asList(notification.getParameter().split(",")));
        }
        return named;
    }

    /** The streams of these organizations (or of all) are no longer caught up: the next claim looks into the log. */
    private void markWoken(Connection connection, Set<String> organizations) throws SQLException {
        IdleStreams.clear(connection, idleLock, organizations.contains(EVERY_ORGANIZATION) ? null
                : organizations.toArray(String[]::new));
    }

    private void pause() {
        if (!running) {
            return;
        }
        try {
            Thread.sleep(reconnectDelay.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    private void closeConnection() {
        Connection open = connection;
        if (open != null) {
            try {
                open.close();
            } catch (SQLException e) {
                LOG.debug("Closing the wake-up connection: {}", e.getMessage());
            }
        }
    }
}
