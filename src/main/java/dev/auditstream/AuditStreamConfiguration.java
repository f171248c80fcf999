package dev.auditstream;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

import javax.sql.DataSource;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.VertxOptions;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.spi.Registry;

import dev.auditstream.alerts.AlertContacts;
import dev.auditstream.alerts.AlertSender;
import dev.auditstream.alerts.Alerts;
import dev.auditstream.alerts.SmtpServer;
import dev.auditstream.api.ApiErrors;
import dev.auditstream.api.ApiKeys;
import dev.auditstream.api.HeaderFilter;
import dev.auditstream.api.ListeningPorts;
import dev.auditstream.api.RequestGuard;
import dev.auditstream.api.Responses;
import dev.auditstream.api.SecurityHeaders;
import dev.auditstream.crypto.KeyRing;
import dev.auditstream.crypto.SecretBox;
import dev.auditstream.crypto.SignedLinks;
import dev.auditstream.db.Database;
import dev.auditstream.db.Pages;
import dev.auditstream.destinations.ClientCredentials;
import dev.auditstream.destinations.Datadog;
import dev.auditstream.destinations.Destinations;
import dev.auditstream.destinations.GenericHttps;
import dev.auditstream.destinations.GoogleCloudStorage;
import dev.auditstream.destinations.MicrosoftSentinel;
import dev.auditstream.destinations.S3;
import dev.auditstream.destinations.Splunk;
import dev.auditstream.destinations.StoreClientProxy;
import dev.auditstream.events.EventChecks;
import dev.auditstream.events.EventLog;
import dev.auditstream.events.OwnEvents;
import dev.auditstream.events.EventQueries;
import dev.auditstream.events.EventValidator;
import dev.auditstream.exports.ExportWriter;
import dev.auditstream.exports.Exports;
import dev.auditstream.observe.DatabaseHealthCheck;
import dev.auditstream.organizations.Organizations;
import dev.auditstream.outbound.AddressGuard;
import dev.auditstream.outbound.EgressAddresses;
import dev.auditstream.outbound.EgressProxy;
import dev.auditstream.outbound.HostResolver;
import dev.auditstream.outbound.OutboundHttp;
import dev.auditstream.portal.Portal;
import dev.auditstream.schemas.ActionSchemas;
import dev.auditstream.delivery.ClaimPasses;
import dev.auditstream.delivery.CommitWakeups;
import dev.auditstream.delivery.DeadLetters;
import dev.auditstream.delivery.DeliveryFailures;
import dev.auditstream.delivery.DeliveryHealth;
import dev.auditstream.delivery.DeliveryHistory;
import dev.auditstream.delivery.DeliveryOutcomes;
import dev.auditstream.delivery.DeliveryTargets;
import dev.auditstream.delivery.EventBatches;
import dev.auditstream.delivery.IdleStreams;
import dev.auditstream.delivery.LeaseRelease;
import dev.auditstream.streams.LogStreams;
import dev.auditstream.streams.SecretResealing;
import dev.auditstream.observe.StreamGauges;
import dev.auditstream.streams.StreamSecrets;
import dev.auditstream.delivery.StreamCursors;
import dev.auditstream.delivery.StreamStates;
import dev.auditstream.streams.StreamTestLimits;
import dev.auditstream.delivery.TestSends;
import dev.auditstream.delivery.DeliveryWorkers;
import dev.auditstream.usage.UsageMeter;
import dev.auditstream.usage.UsageMetrics;
import dev.auditstream.usage.UsageMonths;

/** Builds the beans the YAML routes call, from the {@code auditstream.*} settings. */
public final class AuditStreamConfiguration implements CamelConfiguration {

    private static final String METRICS_REGISTRY = "metricsRegistry";

    @Override
    public void configure(CamelContext context) throws Exception {
        Settings settings = new Settings(context);
        Registry registry = context.getRegistry();
        context.getPropertiesComponent().addPropertiesFunction(new Durations(context));

        // Requests block a Vert.x worker until their commit: the pool bounds how many can share one group commit.
        registry.bind("vertxOptions", new VertxOptions().setWorkerPoolSize(settings.integer("auditstream.http.worker-threads")));
        MeterRegistry metrics = meterRegistry(registry);

        Database database = Database.open(settings);
        context.addService(database, true, true);
        // the one DataSource in the registry, which camel-sql takes; delivery's own pool is reached through the database
        registry.bind("auditDb", database.dataSource());
        registry.bind("database", database);

        ApiKeys apiKeys = ApiKeys.load(settings.optional("auditstream.api-keys").orElse(null), database.embedded(),
                settings.dataDir());
        ApiErrors errors = new ApiErrors();
        registry.bind("apiErrors", errors);
        registry.bind("requestGuard", new RequestGuard(apiKeys, errors, settings.bytes("auditstream.http.max-body-bytes")));
        registry.bind("headerFilter", new HeaderFilter());
        registry.bind("responses", new Responses());
        registry.bind("pages", new Pages(database.dataSource()));
        OwnEvents ownEvents = new OwnEvents(settings.flag("auditstream.audit-trail.enabled"));
        registry.bind("ownEvents", ownEvents);
        Organizations organizations = new Organizations(database.dataSource(), ownEvents);
        registry.bind("organizations", organizations);
        ActionSchemas actionSchemas =
                new ActionSchemas(database.dataSource(), settings.duration("auditstream.schemas.cache-for"));
        registry.bind("actionSchemas", actionSchemas);
        registry.bind("eventChecks", new EventChecks(new EventValidator(), organizations, actionSchemas));
        registry.bind("eventQueries", new EventQueries(database.dataSource()));

        EventLog eventLog = new EventLog(database.dataSource(), metrics,
                settings.integer("auditstream.ingest.writers"),
                settings.integer("auditstream.ingest.max-batch"),
                settings.integer("auditstream.ingest.queue-capacity"),
                settings.duration("auditstream.ingest.commit-timeout"));
        context.addService(eventLog, true, true);
        registry.bind("eventLog", eventLog);

        bindStreams(context, settings, database, metrics);

        context.addLifecycleStrategy(new SecurityHeaders(settings.integer("camel.server.port"), settings.publicUrl()));
        context.addStartupListener(new ListeningPorts("API " + settings.integer("camel.server.port")
                + ", management " + settings.integer("camel.management.port")));
        HealthCheckRegistry health = HealthCheckRegistry.get(context);
        health.register(new DatabaseHealthCheck(database));
        GracefulShutdown shutdown = new GracefulShutdown(settings.integer("camel.server.port"),
                settings.duration("auditstream.shutdown.drain-delay"));
        context.addLifecycleStrategy(shutdown);
        health.register(shutdown.readiness());
    }

    /** Stream management and the delivery engine's steps. */
    private void bindStreams(CamelContext context, Settings settings, Database database, MeterRegistry metrics)
            throws Exception {
        Registry registry = context.getRegistry();
        DataSource dataSource = database.dataSource();
        URI gcsEndpoint = settings.optional("auditstream.gcs.endpoint").map(URI::create).orElse(null);
        URI gcsXmlEndpoint = settings.optional("auditstream.gcs.xml-endpoint").map(URI::create).orElse(gcsEndpoint);
        URI gcsTokenUri = settings.optional("auditstream.gcs.token-uri").map(URI::create).orElse(null);
        int uploads = settings.integer("auditstream.objects.parallel-uploads");
        HostResolver resolver = registry.lookupByNameAndType("hostResolver", HostResolver.class);
        AddressGuard guard = new AddressGuard(resolver != null ? resolver : HostResolver.system(),
                settings.flag("auditstream.allow-private-destinations"));
        EgressProxy egressProxy = EgressProxy.parse(settings.optional("auditstream.egress.proxy").orElse(null),
                settings.optional("auditstream.egress.proxy-user").orElse(null),
                settings.optional("auditstream.egress.proxy-password").orElse(null),
                settings.optional("auditstream.egress.no-proxy").orElse(null));
        StoreClientProxy storeProxy = StoreClientProxy.of(egressProxy);
        registry.bind("egressAddresses",
                EgressAddresses.parse(settings.optional("auditstream.egress.addresses").orElse(null)));
        OutboundHttp outboundHttp = new OutboundHttp(guard, outboundSettings(settings), egressProxy);
        context.addService(outboundHttp, true, true);
        registry.bind("outboundHttp", outboundHttp);
        ClientCredentials tokens = new ClientCredentials(outboundHttp, Clock.systemUTC());
        Destinations destinations = new Destinations(guard, uploads,
                List.of(
                new Datadog(settings.optional("auditstream.datadog.intake-url").orElse(null)),
                new Splunk(settings.bytes("auditstream.splunk.max-batch-bytes"), outboundHttp,
                        settings.duration("auditstream.splunk.ack-timeout")),
                new GenericHttps(tokens),
                new MicrosoftSentinel(tokens, entraAuthority(settings, guard)),
                new S3(new S3.Settings(
                        settings.optional("auditstream.aws.principal-arn").orElse(null),
                        settings.flag("auditstream.s3.assume-role"),
                        settings.optional("auditstream.s3.endpoint").map(URI::create).orElse(null),
                        settings.optional("auditstream.sts.endpoint").map(URI::create).orElse(null),
                        settings.optional("auditstream.aws.access-key-id").orElse(null),
                        settings.optional("auditstream.aws.secret-access-key").orElse(null), storeProxy)),
                new GoogleCloudStorage(GoogleCloudStorage.googleStorage(gcsEndpoint, gcsTokenUri, storeProxy),
                        gcsXmlEndpoint, storeProxy)));
        registry.bind("objectUploads", context.getExecutorServiceManager().newFixedThreadPool(this, "object-uploads",
                uploads * settings.integer("auditstream.delivery.workers")));
        KeyRing keys = KeyRing.load(settings.optional("auditstream.secret-key").orElse(null),
                settings.optional("auditstream.secret-key-previous").orElse(null), database.embedded(),
                settings.dataDir());
        SecretBox box = new SecretBox(keys);
        StreamSecrets secrets = new StreamSecrets(box);
        OwnEvents ownEvents = registry.lookupByNameAndType("ownEvents", OwnEvents.class);
        registry.bind("secretResealing", new SecretResealing(dataSource, secrets, box.currentHeader(),
                settings.integer("auditstream.keys.reseal-batch"), settings.integer("auditstream.locks.reseal-secrets"),
                metrics));
        registry.bind("exports", new Exports(dataSource, registry.lookupByNameAndType("organizations", Organizations.class),
                new SignedLinks(keys, KeyRing.Purpose.DOWNLOAD_LINKS), settings.publicUrl(),
                settings.duration("auditstream.exports.link-lifetime"), ownEvents));
        Alerts alerts = bindAlerts(context, settings, dataSource, guard.allowPrivate() ? outboundHttp : null);
        registry.bind("exportWriter", new ExportWriter(dataSource, settings.duration("auditstream.exports.keep-for"),
                alerts));
        registry.bind("portal", new Portal(dataSource, registry.lookupByNameAndType("organizations", Organizations.class),
                new SignedLinks(keys, KeyRing.Purpose.PORTAL_TOKENS), settings.publicUrl(),
                settings.duration("auditstream.portal.link-lifetime"),
                settings.duration("auditstream.portal.session-lifetime")));
        int maxBatch = settings.integer("auditstream.delivery.max-batch");
        StreamStates states = new StreamStates(dataSource,
                settings.duration("auditstream.delivery.backoff-base"),
                settings.duration("auditstream.delivery.backoff-max"),
                settings.duration("auditstream.delivery.invalid-probe-interval"),
                maxBatch, metrics, alerts);
        ClaimPasses claimPasses = new ClaimPasses(context);
        long idleLock = settings.integer("auditstream.locks.idle-streams");
        CommitWakeups wakeups = settings.flag("auditstream.delivery.wake-on-commit")
                ? new CommitWakeups(database, claimPasses,
                        settings.duration("auditstream.delivery.wake-reconnect-delay"),
                        settings.duration("auditstream.delivery.wake-min-interval"), idleLock)
                : null;
        // without wake-ups no stream is marked caught up: every claim pass looks into the log for every due stream
        IdleStreams idleStreams = new IdleStreams(database.deliveryDataSource(), idleLock,
                settings.duration("auditstream.delivery.mark-interval"),
                wakeups != null ? wakeups::listening : () -> false);
        registry.bind("idleStreams", idleStreams);
        DeliveryWorkers workers = new DeliveryWorkers(settings.integer("auditstream.delivery.workers"),
                settings.duration("auditstream.delivery.lease"),
                settings.duration("auditstream.delivery.fair-share"),
                settings.integer("auditstream.delivery.fair-share-batches"), database.deliveryDataSource(), idleStreams,
                context.getExecutorServiceManager().newSingleThreadScheduledExecutor(this, "lease-heartbeat"));
        workers.onSlotFreed(claimPasses::request);

        registry.bind("destinations", destinations);
        registry.bind("logStreams", new LogStreams(dataSource, destinations, secrets,
                registry.lookupByNameAndType("organizations", Organizations.class), states,
                settings.integer("auditstream.streams.max-per-organization"),
                settings.duration("auditstream.streams.signing-secret-overlap"), ownEvents));
        registry.bind("streamWorkers", workers);
        context.addService(workers, true, true);
        DeliveryHealth deliveryHealth = new DeliveryHealth(workers,
                settings.duration("auditstream.delivery.poll-interval"),
                settings.integer("auditstream.delivery.stall-polls"),
                settings.duration("auditstream.delivery.oldest-transaction-warning"), metrics);
        registry.bind("deliveryHealth", deliveryHealth);
        HealthCheckRegistry.get(context).register(deliveryHealth);
        // stopped before the database (services stop in reverse order), after the routes have drained
        context.addService(new LeaseRelease(dataSource, workers), true, true);
        context.addService(claimPasses, true, true);
        if (wakeups != null) {
            // stopped before the database too
            context.addService(wakeups, true, true);
        }
        registry.bind("deliveryTargets", new DeliveryTargets(secrets, destinations));
        registry.bind("streamCursors", new StreamCursors(database.deliveryDataSource(), settings.duration("auditstream.delivery.lease")));
        // one read ahead per drain at most: as many readers as workers
        registry.bind("eventBatches", new EventBatches(database.deliveryDataSource(), maxBatch,
                settings.bytes("auditstream.delivery.max-batch-bytes"),
                settings.flag("auditstream.delivery.read-ahead")
                        ? context.getExecutorServiceManager().newFixedThreadPool(this, "read-ahead",
                                settings.integer("auditstream.delivery.workers"))
                        : null,
                destinations));
        registry.bind("deliveryFailures", new DeliveryFailures(destinations));
        DeliveryHistory history = new DeliveryHistory(dataSource);
        registry.bind("deliveryHistory", history);
        UsageMetrics usageMetrics = new UsageMetrics(metrics, settings.flag("auditstream.metrics.per-organization"));
        registry.bind("usageMeter", new UsageMeter(dataSource, settings.integer("auditstream.usage.meter-batch"),
                settings.integer("auditstream.locks.usage-meter"), usageMetrics));
        registry.bind("usageMonths", new UsageMonths(Clock.systemUTC()));
        registry.bind("deliveryOutcomes", new DeliveryOutcomes(states, metrics, history, usageMetrics));
        registry.bind("streamTests", new TestSends(dataSource, states, ownEvents));
        registry.bind("deadLetters", new DeadLetters(dataSource, maxBatch, ownEvents));
        registry.bind("streamTestLimits", new StreamTestLimits(settings.integer("auditstream.stream-tests.concurrency"),
                settings.integer("auditstream.stream-tests.per-minute")));
        registry.bind("streamGauges", new StreamGauges(metrics));
    }

    /**
     * Stream health alerts: the queue the state machine writes to, the contacts API, and the sender's steps with
     * their channels, the SMTP server (the {@code alert-mail} component) and the operator's webhook. The webhook is
     * the operator's own address, so it may be internal: it gets a client of its own that allows private addresses
     * (the streams' client when that one allows them already).
     */
    private static Alerts bindAlerts(CamelContext context, Settings settings, DataSource dataSource,
                                     OutboundHttp privateAllowed) throws Exception {
        Registry registry = context.getRegistry();
        SmtpServer smtp = settings.optional("auditstream.smtp.url")
                .map(url -> SmtpServer.parse(url, settings.optional("auditstream.smtp.user").orElse(null),
                        settings.optional("auditstream.smtp.password").orElse(null)))
                .orElse(null);
        context.addComponent(SmtpServer.COMPONENT, SmtpServer.component(smtp,
                (int) settings.duration("auditstream.outbound.connect-timeout").toMillis()));
        AlertSender.Webhook webhook = settings.optional("auditstream.alerts.operator-webhook-url")
                .map(url -> operatorWebhook(url, settings.optional("auditstream.alerts.operator-webhook-secret")
                        .orElse(null)))
                .orElse(null);
        OutboundHttp http = privateAllowed;
        if (webhook != null && http == null) {
            http = new OutboundHttp(new AddressGuard(HostResolver.system(), true), outboundSettings(settings));
            context.addService(http, true, true);
        }
        Alerts alerts = new Alerts(dataSource, smtp != null, webhook != null,
                settings.duration("auditstream.alerts.error-after"), settings.duration("auditstream.alerts.repeat-after"),
                settings.integer("auditstream.locks.alerts-error-check"));
        registry.bind("alerts", alerts);
        registry.bind("alertContacts", new AlertContacts(dataSource,
                registry.lookupByNameAndType("ownEvents", OwnEvents.class)));
        String publicUrl = settings.publicUrl();
        registry.bind("alertSender", new AlertSender(dataSource, smtp == null ? null
                : settings.optional("auditstream.alerts.email-from").orElse("auditstream@" + URI.create(publicUrl).getHost()),
                publicUrl, http, webhook,
                settings.duration("auditstream.alerts.backoff-base"), settings.duration("auditstream.alerts.backoff-max"),
                settings.integer("auditstream.alerts.max-attempts")));
        return alerts;
    }

    /** The operator's webhook: an http(s) URL and a {@code whsec_<base64>} secret to sign with. */
    private static AlertSender.Webhook operatorWebhook(String url, String secret) {
        URI uri = URI.create(url);
        if (!("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) || uri.getHost() == null) {
            throw new IllegalStateException("AUDITSTREAM_OPERATOR_WEBHOOK_URL must be an http(s) URL");
        }
        if (secret == null || !secret.startsWith("whsec_")) {
            throw new IllegalStateException("AUDITSTREAM_OPERATOR_WEBHOOK_SECRET must be set, as whsec_<base64>, "
                    + "with AUDITSTREAM_OPERATOR_WEBHOOK_URL");
        }
        Base64.getDecoder().decode(secret.substring("whsec_".length()));
        return new AlertSender.Webhook(uri, secret);
    }

    private static OutboundHttp.Settings outboundSettings(Settings settings) {
        return new OutboundHttp.Settings(
                settings.duration("auditstream.outbound.connect-timeout"),
                settings.duration("auditstream.outbound.response-timeout"),
                settings.duration("auditstream.outbound.deadline"),
                settings.integer("auditstream.outbound.connections-per-host"),
                settings.integer("auditstream.outbound.max-connections"));
    }

    /** The operator's Entra authority, or null for each cloud's own; plain http only where private destinations are. */
    private static String entraAuthority(Settings settings, AddressGuard guard) {
        String authority = settings.optional("auditstream.entra.authority-url").orElse(null);
        if (authority != null && !authority.startsWith("https://") && !(guard.allowPrivate() && authority.startsWith("http://"))) {
            throw new IllegalStateException("auditstream.entra.authority-url must be an https URL");
        }
        return authority;
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
