package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.model.Model;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.junit.jupiter.api.Test;

import dev.auditstream.AuditStreamConfiguration;

/**
 * Boots the application as camel-main does (application.properties, routes/*.yaml, the configuration class) and
 * checks what operators rely on when they read and edit the routes: every route and every step has a stable id.
 */
@CamelMainTest(
        configurationClasses = AuditStreamConfiguration.class,
        properties = {
            "camel.server.port=0",
            "camel.management.port=0",
            "auditstream.data-dir=target/test-data/route-definitions",
            "auditstream.api-keys=sk_route_definitions"
        })
class RouteDefinitionsTest {

    @BeanInject
    CamelContext context;

    @Test
    void everyRouteAndStepHasAnExplicitId() {
        List<RouteDefinition> routes = context.getCamelContextExtension().getContextPlugin(Model.class)
                .getRouteDefinitions();
        assertThat(routes).hasSizeGreaterThanOrEqualTo(13);
        for (RouteDefinition route : routes) {
            assertThat(route.hasCustomIdAssigned()).as("route from %s", route.getInput().getUri()).isTrue();
            if (Boolean.TRUE.equals(route.isRest())) {
                continue; // generated from a rest verb (which has the id): its one step calls the route it names
            }
            for (ProcessorDefinition<?> step : route.getOutputs()) {
                assertThat(step.hasCustomIdAssigned()).as("%s step %s", route.getRouteId(), step).isTrue();
            }
        }
    }

    @Test
    void theApiRoutesAndBackgroundJobsAreRunning() {
        assertThat(context.getRoutes()).extracting(r -> r.getRouteId()).contains(
                "ingest-event", "create-organization", "get-organization", "list-organizations",
                "create-action-schema", "list-action-schemas", "list-actions",
                "get-retention", "set-retention", "get-audit-log-configuration",
                "purge-expired-events", "purge-idempotency-keys");
        assertThat(context.getRouteController().getRouteStatus("ingest-event").isStarted()).isTrue();
    }
}
