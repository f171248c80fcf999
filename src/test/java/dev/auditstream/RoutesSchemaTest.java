package dev.auditstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersionDetector;
import com.networknt.schema.ValidationMessage;
import org.junit.jupiter.api.Test;

/** Every file under routes/ is valid Camel YAML DSL, checked against the schema camel-yaml-dsl ships. */
class RoutesSchemaTest {

    @Test
    void everyRouteFileMatchesTheYamlDslSchema() throws Exception {
        JsonSchema schema;
        try (InputStream in = org.apache.camel.dsl.yaml.YamlRoutesBuilderLoader.class
                .getResourceAsStream("/schema/camelYamlDsl.json")) {
            JsonNode definition = new ObjectMapper().readTree(in);
            schema = JsonSchemaFactory.getInstance(SpecVersionDetector.detect(definition)).getSchema(definition);
        }
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        List<Path> files;
        try (Stream<Path> list = Files.list(Path.of("routes"))) {
            files = list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(9);
        for (Path file : files) {
            Set<ValidationMessage> errors = schema.validate(yaml.readTree(file.toFile()));
            assertThat(errors).as(file.toString()).isEmpty();
        }
    }
}
