package dev.auditstream;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.VertxOptions;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.spi.Registry;

import dev.auditstream.api.ApiErrors;
import dev.auditstream.api.ApiKeys;
import dev.auditstream.api.RequestGuard;
import dev.auditstream.api.ResponseHeaders;
import dev.auditstream.api.Responses;
import dev.auditstream.db.Database;
import dev.auditstream.db.Pages;
import dev.auditstream.events.EventLog;
import dev.auditstream.events.EventValidator;
import dev.auditstream.observe.DatabaseHealthCheck;
import dev.auditstream.organizations.Organizations;
import dev.auditstream.schemas.ActionSchemas;

/** Builds the beans the YAML routes call, from the {@code auditstream.*} settings. */
public final class AuditStreamConfiguration implements CamelConfiguration {

    private static final String METRICS_REGISTRY = "metricsRegistry";

    @Override
    public void configure(CamelContext context) throws Exception {
        Settings settings = new Settings(context);
        Registry registry = context.getRegistry();

        // Requests block a Vert.x worker until their commit: the pool bounds how many can share one group commit.
        registry.bind("vertxOptions", new VertxOptions().setWorkerPoolSize(settings.integer("auditstream.http.worker-threads")));
        MeterRegistry metrics = meterRegistry(registry);

        Database database = Database.open(settings);
        context.addService(database, true, true);
        registry.bind("auditDb", database.dataSource());

        ApiKeys apiKeys = ApiKeys.load(settings.optional("auditstream.api-keys").orElse(null), settings.dataDir());
        registry.bind("requestGuard", new RequestGuard(apiKeys, settings.bytes("auditstream.http.max-body-bytes")));
        registry.bind("apiErrors", new ApiErrors());
        registry.bind("responseHeaders", new ResponseHeaders());
        registry.bind("responses", new Responses());
        registry.bind("pages", new Pages(database.dataSource()));
        registry.bind("organizations", new Organizations(database.dataSource()));
        registry.bind("actionSchemas",
                new ActionSchemas(database.dataSource(), settings.duration("auditstream.schemas.cache-for")));
        registry.bind("eventValidator", new EventValidator());

        EventLog eventLog = new EventLog(database.dataSource(), metrics,
                settings.integer("auditstream.ingest.writers"),
                settings.integer("auditstream.ingest.max-batch"),
                settings.integer("auditstream.ingest.queue-capacity"),
                settings.duration("auditstream.ingest.commit-timeout"));
        context.addService(eventLog, true, true);
        registry.bind("eventLog", eventLog);

        HealthCheckRegistry health = HealthCheckRegistry.get(context);
        health.register(new DatabaseHealthCheck(database));
    }

    /** The registry camel-micrometer-prometheus serves on /observe/metrics (it may have bound it already). */
    private static MeterRegistry meterRegistry(Registry registry) {
        MeterRegistry existing = registry.lookupByNameAndType(METRICS_REGISTRY, MeterRegistry.class);
        if (existing != null) {
            return existing;
        }
        PrometheusMeterRegistry created = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.bind(METRICS_REGISTRY, created);
        return created;
    }
}
