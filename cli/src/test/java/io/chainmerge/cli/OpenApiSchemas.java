package io.chainmerge.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.InputFormat;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/** The coordinator's OpenAPI document (from its jar), to hold what the API answers to the schemas it documents. */
final class OpenApiSchemas {
    private static final JsonNode COMPONENTS = load();

    private OpenApiSchemas() {}

    private static JsonNode load() {
        try (InputStream in = io.chainmerge.coordinator.Coordinator.class.getResourceAsStream("openapi.json")) {
            return ChainmergeCommand.JSON.mapper().readTree(in).path("components");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Why {@code body} breaks the document's schema {@code name} (one of components.schemas); empty when it fits. */
    static List<String> problems(String name, String body) {
        ObjectNode schema = ChainmergeCommand.JSON.mapper().createObjectNode();
        schema.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        schema.put("$ref", "#/components/schemas/" + name);
        schema.set("components", COMPONENTS);
        return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(schema)
                .validate(body, InputFormat.JSON)
                .stream()
                .map(Object::toString)
                .toList();
    }
}
