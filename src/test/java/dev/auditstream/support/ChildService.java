package dev.auditstream.support;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.auditstream.AuditStream;

/**
 * The service in a JVM of its own (same classes, routes and properties as the tests), so a test can kill it with
 * SIGKILL as a crash would, or run several instances side by side.
 */
public final class ChildService implements AutoCloseable {

    private final Process process;
    private final int port;
    private final int managementPort;

    private ChildService(Process process, int port, int managementPort) {
        this.process = process;
        this.port = port;
        this.managementPort = managementPort;
    }

    /** Starts an instance on its own ports; {@code environment} adds AUDITSTREAM_* settings. */
    public static ChildService start(Path dataDir, String logName, Map<String, String> environment) throws Exception {
        int port = freePort();
        int managementPort = freePort();
        ProcessBuilder builder = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                AuditStream.class.getName());
        Map<String, String> env = new HashMap<>(Map.of(
                "AUDITSTREAM_HTTP_PORT", String.valueOf(port),
                "AUDITSTREAM_MANAGEMENT_PORT", String.valueOf(managementPort),
                "AUDITSTREAM_DATA_DIR", dataDir.toString(),
                "AUDITSTREAM_API_KEYS", RunningService.API_KEY,
                // as RunningService: the delivery tests count exactly the events they send
                "AUDITSTREAM_AUDIT_TRAIL", "false"));
        env.putAll(environment);
        builder.environment().putAll(env);
        builder.redirectErrorStream(true).redirectOutput(new File(dataDir.toFile(), logName + ".log"));
        ChildService child = new ChildService(builder.start(), port, managementPort);
        child.awaitReadiness(200, 90);
        return child;
    }

    public URI uri(String path) {
        return URI.create("http://localhost:" + port + path);
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return RunningService.sendAuthorized(HttpRequest.newBuilder(uri(path)).GET());
    }

    public HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        return RunningService.sendAuthorized(HttpRequest.newBuilder(uri(path))
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    public HttpResponse<String> patch(String path, String json) throws IOException, InterruptedException {
        return RunningService.sendAuthorized(HttpRequest.newBuilder(uri(path))
                .method("PATCH", HttpRequest.BodyPublishers.ofString(json)));
    }

    public URI managementUri(String path) {
        return URI.create("http://localhost:" + managementPort + path);
    }

    /** SIGTERM, as Kubernetes stops a pod; returns at once while the instance drains and stops. */
    public void terminate() {
        process.destroy();
    }

    /** Waits for the process to end after {@link #terminate()}; its exit code. */
    public int awaitExit() throws InterruptedException {
        if (!process.waitFor(90, TimeUnit.SECONDS)) {
            throw new AssertionError("the service did not stop within 90 s");
        }
        return process.exitValue();
    }

    /** SIGKILL: no shutdown hook, no draining, leases left to expire. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }

    /** Waits until /observe/health/ready answers {@code status}: 200 once started, 503 once stopping. */
    public void awaitReadiness(int status, long seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("the service exited (exit " + process.exitValue() + ")");
            }
            try {
                HttpResponse<String> ready = RunningService.sendRaw(HttpRequest.newBuilder(
                        managementUri("/observe/health/ready")).build());
                if (ready.statusCode() == status) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(50);
        }
        throw new AssertionError("readiness did not answer " + status + " within " + seconds + " s");
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
