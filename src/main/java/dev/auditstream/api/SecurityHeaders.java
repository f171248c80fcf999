package dev.auditstream.api;

import io.vertx.core.MultiMap;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.CamelContext;
import org.apache.camel.support.LifecycleStrategySupport;

/**
 * The browser-facing security headers on every answer of the public server (API, portal page and API, assets,
 * downloads, errors, even a path no route serves): no MIME sniffing, no referrer, no framing, nothing cached unless
 * the answer says otherwise, a locked-down CSP unless the page brings its own, and HSTS when served over https.
 */
public final class SecurityHeaders extends LifecycleStrategySupport {

    /** Ahead of every other handler, so even an answer they end early carries the headers. */
    public static final int ORDER = 0;

    private final int httpPort;
    private final boolean https;

    public SecurityHeaders(int httpPort, String publicUrl) {
        this.httpPort = httpPort;
        this.https = publicUrl.startsWith("https:");
    }

    @Override
    public void onContextStarted(CamelContext context) {
        PublicRouter.addFirst(context, httpPort, ORDER, this::add);
    }

    private void add(RoutingContext request) {
        request.addHeadersEndHandler(ending -> {
            MultiMap headers = request.response().headers();
            headers.set("X-Content-Type-Options", "nosniff");
            headers.set("Referrer-Policy", "no-referrer");
            headers.set("X-Frame-Options", "DENY");
            if (!headers.contains("Cache-Control")) {
                headers.set("Cache-Control", "no-store");
            }
            if (!headers.contains("Content-Security-Policy")) {
                headers.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
            }
            if (https) {
                headers.set("Strict-Transport-Security", "max-age=31536000");
            }
        });
        request.next();
    }
}
