package dev.auditstream.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersionDetector;
import com.networknt.schema.ValidationMessage;
import org.apache.camel.dsl.yaml.YamlRoutesBuilderLoader;

/** Camel's YAML DSL JSON schema, as camel-yaml-dsl ships it. */
public final class RouteSchema {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final JsonSchema SCHEMA = load();

    private RouteSchema() {
    }

    /** The schema's complaints about this route file's text; empty when it is valid. */
    public static Set<ValidationMessage> validate(String routeFile) throws IOException {
        return SCHEMA.validate(YAML.readTree(routeFile));
    }

    private static JsonSchema load() {
        try (InputStream in = YamlRoutesBuilderLoader.class.getResourceAsStream("/schema/camelYamlDsl.json")) {
            JsonNode definition = new ObjectMapper().readTree(in);
            return JsonSchemaFactory.getInstance(SpecVersionDetector.detect(definition)).getSchema(definition);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
