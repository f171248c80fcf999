package dev.auditstream;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.camel.main.Main;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An operator's configuration directory (on Kubernetes, a mounted ConfigMap) laid over what the jar ships:
 * {@code application.properties} there overrides the packaged keys it names, and every {@code *.yaml} there is a
 * route file that replaces the packaged route file of the same name or, under a new name, adds routes. So the same
 * jar runs with edited routes, and a file left out of the directory keeps its packaged version.
 */
final class ConfigDirectory {

    static final String ENVIRONMENT_VARIABLE = "AUDITSTREAM_CONFIG_DIR";
    private static final Logger LOG = LoggerFactory.getLogger(ConfigDirectory.class);
    private static final String PACKAGED_ROUTES_FOLDER = "routes/";

    private ConfigDirectory() {
    }

    static void apply(Main main, Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException(ENVIRONMENT_VARIABLE + " is not a directory: " + dir);
        }
        Path properties = dir.resolve("application.properties");
        if (Files.isRegularFile(properties)) {
            Properties overrides = new Properties();
            try (Reader reader = Files.newBufferedReader(properties)) {
                overrides.load(reader);
            }
            overrides.stringPropertyNames().forEach(key -> main.addOverrideProperty(key, overrides.getProperty(key)));
            LOG.info("Configuration from {}: {} properties override the packaged ones", properties, overrides.size());
        }
        List<String> routeFiles;
        try (Stream<Path> files = Files.list(dir)) {
            routeFiles = files.map(f -> f.getFileName().toString())
                    .filter(name -> name.endsWith(".yaml") && !name.startsWith("."))
                    .sorted().toList();
        }
        if (!routeFiles.isEmpty()) {
            // appended to camel.main.routes-include-pattern in application.properties
            main.addOverrideProperty("auditstream.config-dir-routes", ",file:" + dir.toAbsolutePath() + "/*.yaml");
            String replaced = routeFiles.stream().map(ConfigDirectory::packagedLocation).filter(Objects::nonNull)
                    .collect(Collectors.joining(","));
            if (!replaced.isEmpty()) {
                main.addOverrideProperty("camel.main.routes-exclude-pattern", replaced);
            }
            LOG.info("Routes from {}: {} (instead of the packaged files of the same name)", dir, routeFiles);
        }
    }

    /**
     * Where Camel finds the packaged route file of this name (a file under the classes directory, or an entry of the
     * jar as {@code file:/…/auditstream.jar!/routes/x.yaml}), to exclude exactly that one; null if none is packaged.
     */
    private static String packagedLocation(String name) {
        URL url = ConfigDirectory.class.getClassLoader().getResource(PACKAGED_ROUTES_FOLDER + name);
        if (url == null) {
            return null;
        }
        URI uri = URI.create(url.toString());
        return "jar".equals(uri.getScheme()) ? uri.getSchemeSpecificPart() : "file:" + uri.getPath();
    }
}
