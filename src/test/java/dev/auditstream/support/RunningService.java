package dev.auditstream.support;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.main.Main;

import dev.auditstream.AuditStream;
import dev.auditstream.db.Database;

/**
 * One AuditStream instance started in this JVM from {@link AuditStream#create()} with the project's own routes and
 * application.properties, on free ports and its own data directory (embedded PostgreSQL). Stopping and starting
 * again on the same directory is a restart.
 */
public final class RunningService implements AutoCloseable {

    public static final String API_KEY = "sk_test_9f8e7d6c5b4a";

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final Path dataDir;
    private final Map<String, String> overrides;
    private final Map<String, Object> beans;
    private final int httpPort;
    private final int managementPort;
    private Main main;

    private RunningService(Path dataDir, Map<String, String> overrides, Map<String, Object> beans) throws IOException {
        this.dataDir = dataDir;
        this.overrides = new HashMap<>(overrides);
        this.beans = beans;
        this.httpPort = ChildService.freePort();
        this.managementPort = ChildService.freePort();
    }

    public static RunningService start(Path dataDir) throws Exception {
        return start(dataDir, Map.of());
    }

    public static RunningService start(Path dataDir, Map<String, String> overrides) throws Exception {
        return start(dataDir, overrides, Map.of());
    }

    /**
     * {@code overrides} with the service's own claim passes out of the way (no wake-ups, an hourly poll and sweep),
     * for tests that look at the claim's statements or run its passes themselves.
     */
    public static Map<String, String> withoutOwnClaims(Map<String, String> overrides) {
        Map<String, String> settings = new HashMap<>(overrides);
        settings.put("auditstream.delivery.wake-on-commit", "false");
        settings.put("auditstream.delivery.poll-interval", "PT1H");
        settings.put("auditstream.delivery.sweep-interval", "PT1H");
        return settings;
    }

    /** With {@code beans} in the registry before start-up (e.g. Google's in-memory Storage as the GCS client). */
    public static RunningService start(Path dataDir, Map<String, String> overrides, Map<String, Object> beans)
            throws Exception {
        RunningService service = new RunningService(dataDir, overrides, beans);
        service.startMain();
        return service;
    }

    /**
     * A fresh data directory under target/ for one test class, its database already created and migrated: a copy of
     * one made once per test JVM, since initdb and the migrations cost seconds on every first start.
     */
    public static Path newDataDir(String name) throws IOException {
        Path dir = emptyDataDir(name);
        copyTree(migratedDatabase(), dir.resolve("postgres"));
        return dir;
    }

    /** A data directory with nothing in it yet: the service creates its database on first start. */
    public static Path emptyDataDir(String name) throws IOException {
        Path dir = Path.of("target", "test-data", name + "-" + System.nanoTime());
        Files.createDirectories(dir);
        return dir.toAbsolutePath();
    }

    private static Path migratedDatabase;

    /** The embedded database of a service started once on an empty directory and stopped cleanly. */
    private static synchronized Path migratedDatabase() throws IOException {
        if (migratedDatabase == null) {
            Path dir = emptyDataDir("migrated-template");
            try {
                start(dir).close();
            } catch (Exception e) {
                throw new IOException("could not create the template database", e);
            }
            migratedDatabase = dir.resolve("postgres");
        }
        return migratedDatabase;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var paths = Files.walk(from)) {
            for (Path source : (Iterable<Path>) paths::iterator) {
                Files.copy(source, to.resolve(from.relativize(source).toString()),
                        java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

    private void startMain() throws Exception {
        main = AuditStream.create();
        Map<String, String> properties = new HashMap<>();
        properties.put("camel.server.port", String.valueOf(httpPort));
        properties.put("camel.management.port", String.valueOf(managementPort));
        properties.put("auditstream.data-dir", dataDir.toString());
        properties.put("auditstream.api-keys", API_KEY);
        // the delivery tests count exactly the events they send; the trail's own tests turn it on
        properties.put("auditstream.audit-trail.enabled", "false");
        properties.putAll(overrides);
        properties.forEach(main::addOverrideProperty);
        beans.forEach(main::bind);
        main.start();
    }

    /** Stops the instance (a clean shutdown) and starts it again on the same data directory and ports. */
    public void restart() throws Exception {
        main.stop();
        startMain();
    }

    /** A restart with these settings changed (an empty value unsets one). */
    public void restart(Map<String, String> changes) throws Exception {
        overrides.putAll(changes);
        restart();
    }

    public URI uri(String path) {
        return URI.create("http://localhost:" + httpPort + path);
    }

    public URI managementUri(String path) {
        return URI.create("http://localhost:" + managementPort + path);
    }

    public String baseUrl() {
        return "http://localhost:" + httpPort;
    }

    public Path dataDir() {
        return dataDir;
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    public HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    public HttpResponse<String> post(String path, String json, String idempotencyKey) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).header("Idempotency-Key", idempotencyKey)
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    public HttpResponse<String> put(String path, String json) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    public HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return sendAuthorized(request);
    }

    /** Sends as the API's clients do: with the test API key and a JSON body. */
    public static HttpResponse<String> sendAuthorized(HttpRequest.Builder request) throws IOException, InterruptedException {
        return HTTP.send(authorized(request).build(), HttpResponse.BodyHandlers.ofString());
    }

    public static HttpRequest.Builder authorized(HttpRequest.Builder request) {
        return request.header("Authorization", "Bearer " + API_KEY)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30));
    }

    public static HttpResponse<String> sendRaw(HttpRequest request) throws IOException, InterruptedException {
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** Creates an organization through the API and returns its id. */
    public String createOrganization(String name) throws Exception {
        HttpResponse<String> response = post("/organizations", "{\"name\":\"" + name + "\"}");
        if (response.statusCode() != 201) {
            throw new IllegalStateException("create organization: " + response.statusCode() + " " + response.body());
        }
        return TestJson.read(response.body()).get("id").asText();
    }

    public CamelContext context() {
        return main.getCamelContext();
    }

    /** Waits (20 s at most) until the export is ready; its JSON, with the signed download url. */
    public JsonNode awaitReadyExport(String id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        JsonNode export = TestJson.read(get("/audit_logs/exports/" + id).body());
        while (!"ready".equals(export.path("state").asText())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("export " + id + " is not ready: " + export);
            }
            Thread.sleep(100);
            export = TestJson.read(get("/audit_logs/exports/" + id).body());
        }
        return export;
    }

    public DataSource dataSource() {
        return main.getCamelContext().getRegistry().lookupByNameAndType("auditDb", DataSource.class);
    }

    /** The delivery engine's own pool (claims, batches, cursor moves). */
    public DataSource deliveryDataSource() {
        return main.getCamelContext().getRegistry().lookupByNameAndType("database", Database.class)
                .deliveryDataSource();
    }

    public long count(String sql) throws SQLException {
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The event with this action exactly as the log holds it. */
    public String storedEvent(String action) throws SQLException {
        try (Connection c = dataSource().getConnection();
             var ps = c.prepareStatement("SELECT event FROM audit_event WHERE action = ?")) {
            ps.setString(1, action);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** The current value of one of the service's gauges (see /observe/metrics). */
    public double gauge(String name) {
        return main.getCamelContext().getRegistry().lookupByNameAndType("metricsRegistry", MeterRegistry.class)
                .get(name).gauge().value();
    }

    /** Waits (up to 30 s) until the condition holds. */
    public static void await(String what, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    public void execute(String sql) throws SQLException {
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    @Override
    public void close() {
        main.stop();
    }
}
