package dev.auditstream.delivery;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Variable;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Whether this instance's delivery works, for {@code /observe/health} and the metrics (not readiness: the API serves
 * fine meanwhile). DOWN when no claim poll got through for {@code stallPolls} poll intervals (the claim query fails,
 * or every worker slot is taken with no drain running), or when the oldest transaction on the PostgreSQL server has
 * held the delivery watermark back longer than {@code oldestTransactionWarning}: every stream waits for it.
 */
public final class DeliveryHealth extends AbstractHealthCheck {

    private final DeliveryWorkers workers;
    private final long stallNanos;
    private final long warnSeconds;
    /** When a claim poll last got through; 0 until the first one (the routes start after this check exists). */
    private volatile long lastPoll;
    private volatile String watermarkXmin;
    private volatile long watermarkSince = System.nanoTime();
    private volatile long oldestTransactionSeconds;

    public DeliveryHealth(DeliveryWorkers workers, Duration pollInterval, int stallPolls,
                          Duration oldestTransactionWarning, MeterRegistry metrics) {
        super("auditstream", "delivery");
        this.workers = workers;
        this.stallNanos = pollInterval.toNanos() * stallPolls;
        this.warnSeconds = oldestTransactionWarning.toSeconds();
        Gauge.builder("auditstream.delivery.workers.free", workers, DeliveryWorkers::freeSlots)
                .description("Worker slots free to claim streams").register(metrics);
        Gauge.builder("auditstream.delivery.workers.draining", workers, DeliveryWorkers::inFlight)
                .description("Claimed streams being drained now").register(metrics);
        Gauge.builder("auditstream.delivery.stalled", this, health -> health.stalled() ? 1 : 0)
                .description("1 while no claim poll got through for the stall-polls intervals").register(metrics);
        Gauge.builder("auditstream.db.oldest.transaction.seconds", this, health -> health.oldestTransactionSeconds)
                .description("How long the oldest transaction on the server has held the delivery watermark back")
                .register(metrics);
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    public boolean isReadiness() {
        return false;
    }

    /** Route step after each claim poll's query ran (a poll with no slot free counts while drains are running). */
    public void polled(@Variable("slots") int freeSlots) {
        if (freeSlots > 0 || workers.inFlight() > 0) {
            lastPoll = System.nanoTime();
        }
    }

    /**
     * Route step of the observe job: the server's snapshot. xmin is the oldest running transaction's id, xmax one past
     * the newest finished one: xmin below xmax means a later transaction finished and waits behind it (what delivery
     * cannot read yet), and the same xmin seen again means the same transaction still holds it back.
     */
    public void watermark(Map<String, Object> snapshot) {
        String xmin = (String) snapshot.get("xmin");
        long now = System.nanoTime();
        if (xmin.equals(snapshot.get("xmax"))) {
            watermarkXmin = null; // nothing finished behind a running one
        } else if (!xmin.equals(watermarkXmin)) {
            watermarkXmin = xmin;
            watermarkSince = now;
        }
        oldestTransactionSeconds = watermarkXmin == null ? 0 : TimeUnit.NANOSECONDS.toSeconds(now - watermarkSince);
    }

    boolean stalled() {
        long last = lastPoll;
        return last != 0 && System.nanoTime() - last > stallNanos;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        if (stalled()) {
            builder.message("Delivery claimed no stream for " + TimeUnit.NANOSECONDS.toSeconds(stallNanos)
                    + " s: the claim query fails or every worker slot is held with no drain running").down();
        } else if (oldestTransactionSeconds > warnSeconds) {
            builder.message("A transaction on the PostgreSQL server has been running for " + oldestTransactionSeconds
                    + " s: delivery of every stream waits until it ends").down();
        } else {
            builder.up();
        }
    }
}
