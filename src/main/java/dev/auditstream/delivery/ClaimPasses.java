package dev.auditstream.delivery;

import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks for a claim pass now (routes/delivery.yaml, {@code wake-delivery}): on a commit of events (CommitWakeups) and
 * when a worker slot is free again (DeliveryWorkers). Requests while a pass is already queued are dropped: that pass
 * sees what they would have.
 */
public final class ClaimPasses extends ServiceSupport {

    private static final Logger LOG = LoggerFactory.getLogger(ClaimPasses.class);

    /** The route that queues a claim pass; it refuses at once rather than wait while it is not running. */
    private static final String WAKE = "direct:wake-delivery?block=false";

    private final CamelContext context;
    private volatile ProducerTemplate producer;

    public ClaimPasses(CamelContext context) {
        this.context = context;
    }

    @Override
    protected void doStart() {
        producer = context.createProducerTemplate();
    }

    @Override
    protected void doStop() throws Exception {
        producer.stop();
    }

    /** Queues a claim pass, only while the context runs (never into a shutdown in progress). */
    public void request() {
        ProducerTemplate template = producer;
        if (template == null || !context.getStatus().isStarted()) {
            return;
        }
        try {
            template.sendBody(WAKE, null);
        } catch (RuntimeException e) {
            // the route is stopped: the claim timer still runs the passes
            LOG.debug("Could not ask for a claim pass: {}", e.getMessage());
        }
    }
}
