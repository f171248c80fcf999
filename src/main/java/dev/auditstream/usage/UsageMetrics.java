package dev.auditstream.usage;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Events metered and delivered, for Prometheus: one counter each for the installation, or one per organization
 * (label {@code organization}) when the operator asks for it, since every organization then adds a series.
 */
public final class UsageMetrics {

    static final String INGESTED = "auditstream.usage.events.ingested";
    static final String DELIVERED = "auditstream.usage.events.delivered";

    private final MeterRegistry metrics;
    private final boolean perOrganization;

    public UsageMetrics(MeterRegistry metrics, boolean perOrganization) {
        this.metrics = metrics;
        this.perOrganization = perOrganization;
    }

    /** Events of an organization the meter counted. */
    public void ingested(String organizationId, long events) {
        counter(INGESTED, "Events accepted, counted by the usage meter", organizationId).increment(events);
    }

    /** Events of an organization a destination accepted. */
    public void delivered(String organizationId, long events) {
        counter(DELIVERED, "Events delivered to log streams", organizationId).increment(events);
    }

    private Counter counter(String name, String description, String organizationId) {
        Counter.Builder builder = Counter.builder(name).description(description);
        if (perOrganization) {
            builder.tag("organization", organizationId);
        }
        return builder.register(metrics);
    }
}
