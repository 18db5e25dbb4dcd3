package io.chainmerge.common;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.InputFormat;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.chainmerge.common.audit.AuditRecord;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.DeadLetter;
import io.chainmerge.common.message.JobProgress;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.VolumeInventory;
import io.chainmerge.common.topic.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** docs/asyncapi.yaml against the code: the topics it names, the fields of each message, the examples of messages.md. */
class AsyncApiDocsTest {
    private static final Pattern EXAMPLE =
            Pattern.compile("<!-- example: (\\w+) -->\\s*```(?:json|yaml)\\n(.*?)```", Pattern.DOTALL);

    private final JsonCodec json = new JsonCodec();
    private final JsonNode doc = read();

    private JsonNode read() {
        try {
            return json.yaml().readTree(Files.readString(Path.of("..", "docs", "asyncapi.yaml")));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void everyTopicTheCodeUsesIsAChannelAndNoOther() throws Exception {
        Topics topics = new Topics("chainmerge");
        List<String> addresses = new ArrayList<>();
        doc.path("channels")
                .forEach(channel -> addresses.add(channel.path("address").asText()));
        assertThat(addresses)
                .containsExactlyInAnyOrder(
                        topics.jobs("POOL").replace("POOL", "{pool}"),
                        topics.results(),
                        topics.progress(),
                        topics.inventory(),
                        topics.campaigns(),
                        topics.deadLetter(),
                        topics.backupEvents(),
                        topics.notifications(),
                        topics.leader(),
                        topics.audit());
        // The table of docs/messages.md names the same topics.
        String table = Files.readString(Path.of("..", "docs", "messages.md"));
        Matcher rows = Pattern.compile("(?m)^\\| `(chainmerge\\.[^`]+)` \\|").matcher(table);
        List<String> documented = new ArrayList<>();
        while (rows.find()) {
            documented.add(rows.group(1).replace("<pool>", "{pool}"));
        }
        assertThat(documented).containsExactlyInAnyOrderElementsOf(addresses);
    }

    @Test
    void eachMessageSchemaNamesTheFieldsItsRecordHas() {
        Map<String, Class<?>> records = Map.of(
                "JobResult", JobResult.class,
                "JobProgress", JobProgress.class,
                "VolumeInventory", VolumeInventory.class,
                "DeadLetter", DeadLetter.class,
                "AuditRecord", AuditRecord.class);
        records.forEach((schema, type) -> {
            List<String> properties = new ArrayList<>();
            doc.path("components")
                    .path("schemas")
                    .path(schema)
                    .path("properties")
                    .fieldNames()
                    .forEachRemaining(properties::add);
            assertThat(properties)
                    .as(schema)
                    .containsExactlyInAnyOrderElementsOf(Arrays.stream(type.getRecordComponents())
                            .map(c -> c.getName())
                            .toList());
        });
    }

    @Test
    void everyExampleOfMessagesMdFitsItsSchema() throws Exception {
        Matcher matcher = EXAMPLE.matcher(Files.readString(Path.of("..", "docs", "messages.md")));
        List<String> checked = new ArrayList<>();
        while (matcher.find()) {
            String schema = matcher.group(1);
            List<String> problems = problems(schema, matcher.group(2));
            assertThat(problems).as(schema + " example:\n" + matcher.group(2)).isEmpty();
            checked.add(schema);
        }
        assertThat(checked)
                .contains(
                        "Job",
                        "JobResult",
                        "JobProgress",
                        "VolumeInventory",
                        "DeadLetter",
                        "CampaignEvent",
                        "AuditRecord");
        assertThat(problems("JobProgress", "{\"schemaVersion\": 1, \"jobId\": \"j\"}"))
                .as("a schema that refuses nothing checks nothing")
                .isNotEmpty();
    }

    @Test
    void theDocumentIsValidAsyncApi3() throws Exception {
        Path schemaFile = Path.of("..", "target", "asyncapi-specs", "package", "schemas", "3.0.0-without-$id.json");
        if (!Files.exists(schemaFile)) {
            // Like the engine's oracles: CI fetches it (.ci/run), a developer's machine may not have it.
            assertThat(System.getenv("CI"))
                    .as("the AsyncAPI 3.0 schema, " + schemaFile + " (.ci/run fetches it with npm)")
                    .isNotEqualTo("true");
            org.junit.jupiter.api.Assumptions.assumeTrue(
                    false, "no AsyncAPI 3.0 schema at " + schemaFile + "; .ci/run fetches it with npm");
        }
        var schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_7)
                .getSchema(json.mapper().readTree(Files.readString(schemaFile)));
        assertThat(schema.validate(doc)).isEmpty();
        ObjectNode broken = doc.deepCopy();
        ((ObjectNode) broken.path("channels").path("jobs")).put("address", 5);
        assertThat(schema.validate(broken))
                .as("a channel whose address is a number")
                .isNotEmpty();
    }

    private List<String> problems(String schema, String body) {
        ObjectNode wrapper = json.mapper().createObjectNode();
        wrapper.put("$schema", "http://json-schema.org/draft-07/schema#");
        wrapper.put("$ref", "#/components/schemas/" + schema);
        wrapper.set("components", doc.path("components"));
        return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_7)
                .getSchema(wrapper)
                .validate(body, InputFormat.JSON)
                .stream()
                .map(Object::toString)
                .toList();
    }
}
