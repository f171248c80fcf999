package dev.auditstream.db;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded PostgreSQL 17 kept under the data directory, owned by this process for its lifetime (an OS file lock,
 * so a second instance on the same directory stops at once instead of stopping this one's server), and used through
 * a role of its own that is no superuser.
 */
final class EmbeddedDatabase implements AutoCloseable {

    /** The service's role, and the schema it owns. */
    static final String ROLE = "auditstream";

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedDatabase.class);
    /** Data directories this JVM holds: a second lock on the same file from this JVM would release the first. */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path dataDir;
    private final FileChannel lockFile;
    private final EmbeddedPostgres server;

    private EmbeddedDatabase(Path dataDir, FileChannel lockFile, EmbeddedPostgres server) {
        this.dataDir = dataDir;
        this.lockFile = lockFile;
        this.server = server;
    }

    static EmbeddedDatabase start(Path dataDir) throws IOException {
        Path dir = dataDir.toAbsolutePath().normalize();
        Files.createDirectories(dir.resolve("postgres"));
        FileChannel lockFile = lock(dir);
        try {
            // holding the lock, a server still running on the directory belongs to no live instance
            stopOrphanedServer(dir.resolve("postgres"));
            LOG.info("No AUDITSTREAM_DB_URL set: starting embedded PostgreSQL in {}", dir.resolve("postgres"));
            EmbeddedPostgres server = EmbeddedPostgres.builder()
                    .setDataDirectory(dir.resolve("postgres"))
                    .setCleanDataDirectory(false)
                    // the embedded default trades durability for speed; an acknowledged event must survive a crash
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("fsync", "on")
                    .setServerConfig("max_connections", "200")
                    .setPGStartupWait(Duration.ofSeconds(60))
                    // stopped with the Camel context, after the last event is stored, not by a JVM hook of its own
                    .setRegisterShutdownHook(false)
                    .start();
            EmbeddedDatabase database = new EmbeddedDatabase(dir, lockFile, server);
            try {
                database.provisionRole();
            } catch (SQLException | RuntimeException e) {
                database.close();
                throw new IOException("Could not set up the service's role in the embedded database", e);
            }
            return database;
        } catch (IOException | RuntimeException e) {
            release(dir, lockFile);
            throw e;
        }
    }

    /** Where the service connects: as its own role, whose search path is its schema. */
    String jdbcUrl() {
        return server.getJdbcUrl(ROLE, "postgres");
    }

    @Override
    public void close() throws IOException {
        try {
            server.close();
        } finally {
            release(dataDir, lockFile);
        }
    }

    /**
     * Takes the data directory for this process, or fails with who holds it. The lock is the OS's, so it goes with
     * the process however it ends, while a killed instance's PostgreSQL keeps running.
     */
    private static FileChannel lock(Path dir) throws IOException {
        Path file = dir.resolve("embedded-postgres.lock");
        if (HELD.add(dir)) {
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock != null) {
                channel.truncate(0);
                channel.write(ByteBuffer.wrap(String.valueOf(ProcessHandle.current().pid())
                        .getBytes(StandardCharsets.US_ASCII)));
                return channel;
            }
            channel.close();
            HELD.remove(dir);
        }
        String owner = Files.readString(file, StandardCharsets.US_ASCII).trim();
        throw new IllegalStateException("The data directory " + dir + " is in use by another AuditStream instance"
                + (owner.isEmpty() ? "" : " (process " + owner + ")") + ": stop that one first, or give this one its "
                + "own AUDITSTREAM_DATA_DIR (instances share a database through AUDITSTREAM_DB_URL).");
    }

    private static void release(Path dir, FileChannel lockFile) throws IOException {
        try {
            lockFile.close();
        } finally {
            HELD.remove(dir);
        }
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

    /** As the superuser, once per start: the service's role and schema, and an earlier layout moved into them. */
    private void provisionRole() throws SQLException, IOException {
        String sql;
        try (InputStream in = EmbeddedDatabase.class.getResourceAsStream("/db/embedded/service-role.sql")) {
            sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try (Connection connection = server.getPostgresDatabase().getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }
}
