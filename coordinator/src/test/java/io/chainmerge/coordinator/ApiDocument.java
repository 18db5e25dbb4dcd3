package io.chainmerge.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.InputFormat;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.chainmerge.common.json.JsonCodec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** The coordinator's OpenAPI document as tests read it: its operations, and whether an answer fits it. */
final class ApiDocument {
    private static final JsonCodec JSON = new JsonCodec();
    private static final SchemaRegistry SCHEMAS = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    final JsonNode doc;

    private ApiDocument(JsonNode doc) {
        this.doc = doc;
    }

    static ApiDocument load() {
        try (InputStream in = CoordinatorHttp.class.getResourceAsStream("openapi.json")) {
            return new ApiDocument(JSON.mapper().readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every operation, as {@code METHOD /path/{param}}. */
    List<String> operations() {
        List<String> operations = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            path.getValue()
                    .fieldNames()
                    .forEachRemaining(
                            method -> operations.add(method.toUpperCase(java.util.Locale.ROOT) + " " + path.getKey()));
        }
        return operations;
    }

    JsonNode operation(String method, String path) {
        return doc.path("paths").path(path).path(method.toLowerCase(java.util.Locale.ROOT));
    }

    /**
     * Why an answer does not fit the document: its status is not documented for the operation, its content
     * type is not, or its body breaks the schema documented for them. Empty when it fits.
     */
    List<String> problems(String method, String path, int status, String contentType, String body) {
        JsonNode response = operation(method, path).path("responses").path(String.valueOf(status));
        if (response.isMissingNode()) {
            return List.of(method + " " + path + " answered " + status + ", which the document does not list");
        }
        JsonNode content = response.path("content");
        if (content.isMissingNode() || content.isEmpty()) {
            return List.of();
        }
        String type = contentType == null ? "" : contentType.split(";")[0].strip();
        JsonNode media = content.path(type);
        if (media.isMissingNode()) {
            return List.of(method + " " + path + " " + status + " answered " + type + ", documented: "
                    + JSON.write(content.fieldNames()));
        }
        if (!type.contains("json")) {
            return List.of();
        }
        return schemaProblems(media.path("schema"), body).stream()
                .map(p -> method + " " + path + " " + status + ": " + p)
                .toList();
    }

    /** Why {@code body} breaks the document's component schema {@code name}. */
    List<String> problems(String name, String body) {
        return schemaProblems(JSON.mapper().createObjectNode().put("$ref", "#/components/schemas/" + name), body);
    }

    private List<String> schemaProblems(JsonNode schema, String body) {
        ObjectNode wrapper = schema.deepCopy();
        wrapper.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        wrapper.set("components", doc.path("components"));
        return SCHEMAS.getSchema(wrapper).validate(body, InputFormat.JSON).stream()
                .map(Object::toString)
                .toList();
    }
}
