package dev.auditstream;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import org.apache.camel.CamelContext;

/**
 * Typed access to the {@code auditstream.*} keys of application.properties, each of which defaults to an
 * {@code AUDITSTREAM_*} environment variable there.
 */
public final class Settings {

    private final CamelContext context;

    public Settings(CamelContext context) {
        this.context = context;
    }

    public Optional<String> optional(String key) {
        return context.getPropertiesComponent().resolveProperty(key)
                .map(String::trim)
                .filter(v -> !v.isEmpty());
    }

    public String string(String key) {
        return optional(key).orElseThrow(() -> new IllegalStateException("Missing configuration: " + key));
    }

    public int integer(String key) {
        return Integer.parseInt(string(key));
    }

    public long bytes(String key) {
        return Long.parseLong(string(key));
    }

    public boolean flag(String key) {
        return Boolean.parseBoolean(string(key));
    }

    public Duration duration(String key) {
        return Durations.parse(string(key));
    }

    /** The address customers reach, without a trailing slash, for the links built on it. */
    public String publicUrl() {
        return string("auditstream.public-url").replaceFirst("/$", "");
    }

    public Path dataDir() {
        return Path.of(string("auditstream.data-dir")).toAbsolutePath();
    }
}
