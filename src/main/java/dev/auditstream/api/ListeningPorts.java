package dev.auditstream.api;

import io.vertx.core.http.HttpServer;
import io.vertx.core.net.impl.TCPServerBase;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.StartupListener;

/**
 * Refuses to run without the ports it serves. Camel's Vert.x server only logs a failed listen (a port already in
 * use, one the process may not bind), so the instance would come up ready, answering health checks on one port
 * while the API's port belongs to another process. Checked once the context has started: the start fails instead.
 */
public final class ListeningPorts implements StartupListener {

    private final String ports;

    /** @param ports what the servers were told to listen on, for the message */
    public ListeningPorts(String ports) {
        this.ports = ports;
    }

    @Override
    public void onCamelContextStarted(CamelContext context, boolean alreadyStarted) {
        boolean allListening = context.hasServices(VertxPlatformHttpServer.class).stream()
                .allMatch(server -> listening(server.getServer()));
        if (!allListening) {
            throw new IllegalStateException("Could not listen on every port (" + ports + "): one is in use by "
                    + "another process or may not be bound (the warning above names it); choose free ones with "
                    + "AUDITSTREAM_HTTP_PORT and AUDITSTREAM_MANAGEMENT_PORT");
        }
    }

    /**
     * Vert.x's own listening flag (cleared when the bind fails); its public interface has none, and the port it
     * reports is the one asked for whether or not the bind succeeded.
     */
    private static boolean listening(HttpServer server) {
        return !(server instanceof TCPServerBase tcp) || tcp.isListening();
    }
}
