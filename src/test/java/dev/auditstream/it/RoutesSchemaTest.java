package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import dev.auditstream.support.RouteSchema;

/** Every file under routes/ is valid Camel YAML DSL, checked against the schema camel-yaml-dsl ships. */
class RoutesSchemaTest {

    @Test
    void everyRouteFileMatchesTheYamlDslSchema() throws Exception {
        List<Path> files;
        try (Stream<Path> list = Files.list(Path.of("routes"))) {
            files = list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(9);
        for (Path file : files) {
            assertThat(RouteSchema.validate(Files.readString(file))).as(file.toString()).isEmpty();
        }
    }

    @Test
    void theSchemaRejectsAStepItDoesNotKnow() throws Exception {
        assertThat(RouteSchema.validate("""
                - route:
                    id: misspelt
                    from:
                      uri: direct:misspelt
                      steps:
                        - setBodyy:
                            constant: x
                """)).isNotEmpty();
    }
}
