package dev.auditstream;

import org.apache.camel.main.Main;

/** Starts AuditStream: camel-main with the YAML routes under {@code routes/} and the beans they call. */
public final class AuditStream {

    private AuditStream() {
    }

    public static void main(String[] args) throws Exception {
        create().run(args);
    }

    /** A configured but not yet started instance; tests use it to run several on one machine. */
    public static Main create() {
        Main main = new Main();
        main.configure().addConfiguration(AuditStreamConfiguration.class);
        return main;
    }
}
