package dev.auditstream.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.apache.camel.support.service.ServiceSupport;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.auditstream.Settings;

/**
 * The service's PostgreSQL: an external server when {@code auditstream.db.url} is set, otherwise an embedded
 * PostgreSQL 17 kept under the data directory. Either way the same pool, the same migrations, the same code.
 */
public final class Database extends ServiceSupport {

    private static final Logger LOG = LoggerFactory.getLogger(Database.class);

    private final EmbeddedPostgres embedded;
    private final HikariDataSource pool;

    private Database(EmbeddedPostgres embedded, HikariDataSource pool) {
        this.embedded = embedded;
        this.pool = pool;
    }

    public static Database open(Settings settings) throws IOException {
        EmbeddedPostgres embedded = null;
        String url;
        String user;
        String password;
        if (settings.optional("auditstream.db.url").isPresent()) {
            url = settings.string("auditstream.db.url");
            user = settings.optional("auditstream.db.user").orElse(null);
            password = settings.optional("auditstream.db.password").orElse(null);
        } else {
            embedded = startEmbedded(settings.dataDir().resolve("postgres"));
            url = embedded.getJdbcUrl("postgres", "postgres");
            user = "postgres";
            password = null;
        }
        HikariDataSource pool = new HikariDataSource(poolConfig(settings, url, user, password));
        try {
            Flyway.configure().dataSource(pool).locations("classpath:db/migration").load().migrate();
        } catch (RuntimeException e) {
            pool.close();
            if (embedded != null) {
                embedded.close();
            }
            throw e;
        }
        return new Database(embedded, pool);
    }

    private static EmbeddedPostgres startEmbedded(Path dir) throws IOException {
        Files.createDirectories(dir);
        stopOrphanedServer(dir);
        LOG.info("No AUDITSTREAM_DB_URL set: starting embedded PostgreSQL in {}", dir);
        return EmbeddedPostgres.builder()
                .setDataDirectory(dir)
                .setCleanDataDirectory(false)
                // the embedded default trades durability for speed; an acknowledged event must survive a crash
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("fsync", "on")
                .setServerConfig("max_connections", "200")
                .setPGStartupWait(Duration.ofSeconds(60))
                // stopped with the Camel context, after the last event is stored, not by a JVM hook of its own
                .setRegisterShutdownHook(false)
                .start();
    }

    /**
     * A previous process that was killed (not stopped) leaves its PostgreSQL server running on the data directory.
     * Shut it down before starting a new one: SIGINT, PostgreSQL's fast shutdown, which ends whatever sessions are
     * left and still writes a clean checkpoint.
     */
    private static void stopOrphanedServer(Path dir) throws IOException {
        Path pidFile = dir.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        String firstLine = Files.readAllLines(pidFile).stream().findFirst().orElse("").trim();
        if (!firstLine.matches("\\d+")) {
            return;
        }
        Optional<ProcessHandle> server = ProcessHandle.of(Long.parseLong(firstLine))
                .filter(ProcessHandle::isAlive)
                .filter(p -> p.info().command().map(c -> c.endsWith("postgres")).orElse(false));
        if (server.isEmpty()) {
            return;
        }
        LOG.warn("Embedded PostgreSQL (pid {}) of an earlier run is still running on {}; shutting it down",
                firstLine, dir);
        try {
            new ProcessBuilder("kill", "-INT", firstLine).inheritIO().start().waitFor();
            server.get().onExit().get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("Interrupted while waiting for the old PostgreSQL server to stop", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("The old PostgreSQL server (pid " + firstLine + ") did not stop; stop it and retry", e);
        }
    }

    private static HikariConfig poolConfig(Settings settings, String url, String user, String password) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("auditstream");
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(settings.integer("auditstream.db.pool-size"));
        config.setMinimumIdle(2);
        config.setConnectionTimeout(settings.duration("auditstream.db.connection-timeout").toMillis());
        // Delivery reads below the oldest running transaction: a session left idle in a transaction would stall it.
        config.setConnectionInitSql("SET idle_in_transaction_session_timeout = '"
                + settings.duration("auditstream.db.idle-in-transaction-timeout").toMillis() + "ms'");
        config.addDataSourceProperty("reWriteBatchedInserts", "true");
        config.addDataSourceProperty("ApplicationName", "auditstream");
        return config;
    }

    /** True when this is the embedded server (the data directory is then the only place for generated secrets). */
    public boolean embedded() {
        return embedded != null;
    }

    public DataSource dataSource() {
        return pool;
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
        pool.close();
        if (embedded != null) {
            embedded.close();
        }
    }
}
