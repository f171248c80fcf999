package dev.auditstream;

import java.io.IOException;
import java.nio.file.Path;

import org.apache.camel.main.Main;

/**
 * Starts AuditStream: camel-main with the YAML routes under {@code routes/} and the beans they call, with an operator's
 * configuration directory ({@code AUDITSTREAM_CONFIG_DIR}) laid over them.
 */
public final class AuditStream {

    private AuditStream() {
    }

    public static void main(String[] args) throws Exception {
        create().run(args);
    }

    /** A configured but not yet started instance; tests use it to run several on one machine. */
    public static Main create() throws IOException {
        Main main = new Main();
        main.configure().addConfiguration(AuditStreamConfiguration.class);
        String configDir = System.getenv(ConfigDirectory.ENVIRONMENT_VARIABLE);
        if (configDir != null && !configDir.isBlank()) {
            ConfigDirectory.apply(main, Path.of(configDir));
        }
        return main;
    }
}
