package dev.auditstream.api;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;

/** The Vert.x router of the public HTTP server (API, portal, downloads), for handlers ahead of every route. */
public final class PublicRouter {

    private PublicRouter() {
    }

    /**
     * Runs the handler on every request before any route, in {@code order} among such handlers (lowest first).
     * Call once the context has started: the server's router exists from then on.
     */
    public static void addFirst(CamelContext context, int httpPort, int order, Handler<RoutingContext> handler) {
        VertxPlatformHttpRouter router = VertxPlatformHttpRouter.lookup(context,
                VertxPlatformHttpRouter.getRouterNameFromPort(httpPort));
        if (router == null) {
            // a server on a port picked at start-up registers its router under port 0
            router = VertxPlatformHttpRouter.lookup(context, VertxPlatformHttpRouter.PLATFORM_HTTP_ROUTER_NAME_ZERO);
        }
        router.route().order(Integer.MIN_VALUE + order).handler(handler);
    }
}
