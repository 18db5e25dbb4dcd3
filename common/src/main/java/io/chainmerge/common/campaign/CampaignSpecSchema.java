package io.chainmerge.common.campaign;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.chainmerge.common.json.JsonCodec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The campaign spec's JSON Schema (published at {@code GET /v1/schemas/campaign-spec.json} and in
 * {@code docs/schemas/}), and the one way to read a spec: its text is checked against the schema first, so a
 * mistake is named by its field, then read as a {@link CampaignSpec}, whose constructor checks the rules that
 * span fields. The CLI reads a spec this way before sending it; the coordinator, when it arrives.
 */
public final class CampaignSpecSchema {
    /** The schema's text, a resource beside this class. */
    public static final String RESOURCE = "campaign-spec.schema.json";

    private final JsonCodec json;
    private final String text;
    private final Schema schema;

    public CampaignSpecSchema(JsonCodec json) {
        this.json = json;
        try (InputStream in = CampaignSpecSchema.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(
                        "the campaign spec's schema is missing from the class path: " + RESOURCE);
            }
            this.text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(text, com.networknt.schema.InputFormat.JSON);
    }

    /** The schema as published. */
    public String text() {
        return text;
    }

    /**
     * The spec in {@code text} (YAML or JSON).
     *
     * @throws InvalidCampaignSpecException naming the fields at fault, when the text is not YAML, breaks the
     *     schema, or breaks a rule across fields
     */
    public CampaignSpec read(String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidCampaignSpecException("invalid campaign spec: it is empty", List.of(), null);
        }
        JsonNode tree;
        try {
            tree = json.yaml().readTree(text);
        } catch (IOException e) {
            throw new InvalidCampaignSpecException(
                    "invalid campaign spec: not YAML or JSON: "
                            + (e instanceof com.fasterxml.jackson.core.JacksonException j
                                    ? j.getOriginalMessage()
                                    : e.getMessage()),
                    List.of(),
                    e);
        }
        List<Error> errors = tree == null ? List.of() : schema.validate(tree);
        if (tree == null || !tree.isObject()) {
            throw new InvalidCampaignSpecException(
                    "invalid campaign spec: it must be a map of fields (pools, select, limits, …)", List.of(), null);
        }
        if (!errors.isEmpty()) {
            LinkedHashSet<String> fields = new LinkedHashSet<>();
            List<String> reasons = new ArrayList<>();
            for (Error error : errors) {
                String field = field(error);
                fields.add(field);
                reasons.add(describe(field, error));
            }
            throw new InvalidCampaignSpecException(
                    "invalid campaign spec: " + String.join("; ", new LinkedHashSet<>(reasons)),
                    List.copyOf(fields),
                    null);
        }
        try {
            return json.yaml().treeToValue(tree, CampaignSpec.class);
        } catch (IOException e) {
            Throwable cause = e.getCause() instanceof IllegalArgumentException ? e.getCause() : e;
            throw new InvalidCampaignSpecException("invalid campaign spec: " + cause.getMessage(), List.of(), e);
        }
    }

    /** The field an error is about, as a path: {@code select.olderThan}, {@code pools[0]}; an unknown field's own name. */
    private static String field(Error error) {
        StringBuilder path = new StringBuilder();
        for (String part : error.getInstanceLocation().toString().split("/")) {
            if (part.isEmpty() || part.equals("$")) {
                continue;
            }
            if (part.chars().allMatch(Character::isDigit)) {
                path.append('[').append(part).append(']');
            } else {
                path.append(path.length() == 0 ? "" : ".").append(part);
            }
        }
        if (error.getProperty() != null
                && ("additionalProperties".equals(error.getKeyword()) || "required".equals(error.getKeyword()))) {
            path.append(path.length() == 0 ? "" : ".").append(error.getProperty());
        }
        return path.length() == 0 ? "(the spec)" : path.toString();
    }

    private static String describe(String field, Error error) {
        JsonNode rule = error.getSchemaNode();
        return switch (error.getKeyword()) {
            case "additionalProperties" -> field + ": no such field (docs/campaigns.md lists them)";
            case "required" -> field + ": required";
            case "enum" -> field + ": " + error.getInstanceNode() + " is not one of " + choices(rule);
            case "pattern" -> field + ": " + error.getInstanceNode() + " is not " + expected(rule);
            default -> field + ": " + withoutLocation(error.getMessage());
        };
    }

    private static String choices(JsonNode values) {
        List<String> names = new ArrayList<>();
        if (values != null) {
            values.forEach(v -> {
                if (!v.isNull()) {
                    names.add(v.asText());
                }
            });
        }
        return String.join(", ", names);
    }

    /** What a pattern of the schema stands for, in words. */
    private static String expected(JsonNode pattern) {
        String text = pattern == null ? "" : pattern.asText();
        if (text.contains("%")) {
            return "a size or a share, e.g. 2GiB or 5%";
        } else if (text.contains("[kK")) {
            return "a size, e.g. 64K, 10GiB, 200MiB/s";
        } else if (text.contains("[sSmMhHdD]")) {
            return "a duration, e.g. 90s, 10m, 2d";
        } else if (text.contains("A-Za-z0-9_-")) {
            return "a pool name (letters, digits, - and _)";
        } else if (text.equals("^/")) {
            return "an absolute path";
        }
        return "of the form " + text;
    }

    /** networknt's messages start with the instance location, which {@link #field} already names. */
    private static String withoutLocation(String message) {
        int colon = message.indexOf(": ");
        return colon >= 0 && (message.startsWith("$") || message.startsWith("/"))
                ? message.substring(colon + 2)
                : message;
    }
}
