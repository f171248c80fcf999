package dev.auditstream;

import java.time.Duration;
import java.util.Map;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.CamelContext;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.apache.camel.support.LifecycleStrategySupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.auditstream.api.Json;
import dev.auditstream.api.PublicRouter;
import dev.auditstream.api.SecurityHeaders;

/**
 * Stops an instance without failing a client: when the context is asked to stop (SIGTERM), readiness goes down
 * first and the API keeps serving for the drain delay, long enough for a load balancer to stop sending here, while
 * every HTTP/1 response closes its connection so keep-alive clients reconnect elsewhere. Then Camel stops the
 * routes, which finish the requests and deliveries in flight, while every new request gets a 503 with Retry-After
 * (JSON, like the API's other errors) until the HTTP server closes.
 */
public final class GracefulShutdown extends LifecycleStrategySupport {

    private static final Logger LOG = LoggerFactory.getLogger(GracefulShutdown.class);
    private static final String UNAVAILABLE = Json.write(Map.of(
            "message", "This AuditStream instance is shutting down; retry the request", "code", "shutting_down"));

    private final int httpPort;
    private final Duration drainDelay;
    private volatile boolean draining;
    private volatile boolean refusing;

    public GracefulShutdown(int httpPort, Duration drainDelay) {
        this.httpPort = httpPort;
        this.drainDelay = drainDelay;
    }

    /** A readiness check that is down from the moment the instance starts draining. */
    public HealthCheck readiness() {
        return new AbstractHealthCheck("auditstream", "draining") {
            @Override
            public boolean isLiveness() {
                return false;
            }

            @Override
            protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
                if (draining) {
                    builder.message("shutting down").down();
                } else {
                    builder.up();
                }
            }
        };
    }

    @Override
    public void onContextStarted(CamelContext context) {
        PublicRouter.addFirst(context, httpPort, SecurityHeaders.ORDER + 1, this::whileShuttingDown);
    }

    @Override
    public void onContextStopping(CamelContext context) {
        draining = true;
        if (!drainDelay.isZero()) {
            LOG.info("Shutting down: readiness is down; serving requests for another {} s before stopping",
                    drainDelay.toSeconds());
            try {
                Thread.sleep(drainDelay.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // from here on the routes stop: what is in flight finishes, what arrives is told to retry
        refusing = true;
    }

    private void whileShuttingDown(RoutingContext request) {
        if (!draining) {
            request.next();
            return;
        }
        // an HTTP/2 connection carries other clients' requests: it is left to close with the server
        if (request.request().version() != HttpVersion.HTTP_2) {
            request.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
            request.addEndHandler(ended -> request.request().connection().close());
        }
        if (!refusing) {
            request.next();
            return;
        }
        request.response().setStatusCode(503)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .putHeader("Retry-After", "1")
                .end(UNAVAILABLE);
    }
}
