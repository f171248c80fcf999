package dev.auditstream.db;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.apache.camel.support.service.ServiceSupport;
import org.flywaydb.core.Flyway;

import dev.auditstream.Settings;

/**
 * The service's PostgreSQL: an external server when {@code auditstream.db.url} is set, otherwise an embedded
 * PostgreSQL 17 kept under the data directory. Either way the same pool, the same migrations, the same code.
 */
public final class Database extends ServiceSupport {

    private final EmbeddedDatabase embedded;
    private final HikariDataSource pool;
    private final HikariDataSource deliveryPool;
    private final String url;
    private final String user;
    private final String password;

    private Database(EmbeddedDatabase embedded, HikariDataSource pool, HikariDataSource deliveryPool, String url,
                     String user, String password) {
        this.embedded = embedded;
        this.pool = pool;
        this.deliveryPool = deliveryPool;
        this.url = url;
        this.user = user;
        this.password = password;
    }

    public static Database open(Settings settings) throws IOException {
        EmbeddedDatabase embedded = null;
        String url;
        String user;
        String password;
        if (settings.optional("auditstream.db.url").isPresent()) {
            url = settings.string("auditstream.db.url");
            user = settings.optional("auditstream.db.user").orElse(null);
            password = settings.optional("auditstream.db.password").orElse(null);
        } else {
            embedded = EmbeddedDatabase.start(settings.dataDir());
            url = embedded.jdbcUrl();
            user = EmbeddedDatabase.ROLE;
            password = null;
        }
        HikariDataSource pool = null;
        HikariDataSource deliveryPool = null;
        try {
            pool = new HikariDataSource(poolConfig(settings, "auditstream", url, user, password,
                    settings.integer("auditstream.db.pool-size"), ""));
            // as the service's own role: migrations create objects in its schema, owned by it
            Flyway.configure().dataSource(pool).locations("classpath:db/migration").load().migrate();
            // a drain holds one connection at a time, its read-ahead another while the batch before is being sent
            deliveryPool = new HikariDataSource(poolConfig(settings, "auditstream-delivery", url, user, password,
                    settings.integer("auditstream.delivery.workers") + 2, "; SET synchronous_commit = off"));
        } catch (RuntimeException e) {
            if (deliveryPool != null) {
                deliveryPool.close();
            }
            if (pool != null) {
                pool.close();
            }
            if (embedded != null) {
                embedded.close();
            }
            throw e;
        }
        return new Database(embedded, pool, deliveryPool, url, user, password);
    }

    private static HikariConfig poolConfig(Settings settings, String name, String url, String user, String password,
                                           int size, String moreInitSql) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(2);
        config.setConnectionTimeout(settings.duration("auditstream.db.connection-timeout").toMillis());
        // Delivery reads below the oldest running transaction: a session left idle in a transaction would stall it.
        config.setConnectionInitSql("SET idle_in_transaction_session_timeout = '"
                + settings.duration("auditstream.db.idle-in-transaction-timeout").toMillis() + "ms'" + moreInitSql);
        config.addDataSourceProperty("reWriteBatchedInserts", "true");
        config.addDataSourceProperty("ApplicationName", name);
        return config;
    }

    /** True when this is the embedded server (the data directory is then the only place for generated secrets). */
    public boolean embedded() {
        return embedded != null;
    }

    public DataSource dataSource() {
        return pool;
    }

    /**
     * The delivery engine's own connections, for its bookkeeping: claims, cursor moves, lease releases and the reads
     * of its batches. Their commits do not wait for the disk ({@code synchronous_commit = off}): a database crash may
     * lose the last few, which sends a batch again (delivery is at-least-once; a cursor and the usage it counted move
     * together) or leaves a lease to expire, never loses an event. Apart from the pool, so delivery can neither take
     * the connections ingestion and the API need nor make their commits wait behind its own.
     */
    public DataSource deliveryDataSource() {
        return deliveryPool;
    }

    /**
     * A connection outside the pool, to the same server as the same role, for a session that stays tied up (a LISTEN):
     * the caller closes it. {@code applicationName} tells it apart in {@code pg_stat_activity}.
     */
    public Connection openDedicated(String applicationName) throws SQLException {
        Properties properties = new Properties();
        if (user != null) {
            properties.setProperty("user", user);
        }
        if (password != null) {
            properties.setProperty("password", password);
        }
        properties.setProperty("ApplicationName", applicationName);
        properties.setProperty("tcpKeepAlive", "true");
        return DriverManager.getConnection(url, properties);
    }

    /** True when the database answers a trivial query within the given time. */
    public boolean answers(Duration within) {
        try (Connection c = pool.getConnection()) {
            return c.isValid((int) Math.max(1, within.toSeconds()));
        } catch (SQLException e) {
            return false;
        }
    }

    @Override
    protected void doStop() throws Exception {
        deliveryPool.close();
        pool.close();
        if (embedded != null) {
            embedded.close();
        }
    }
}
