package io.chainmerge.common.campaign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.common.json.JsonCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The campaign spec's published JSON Schema: what it takes, what it refuses and how it names the field. */
class CampaignSpecSchemaTest {
    private final JsonCodec json = new JsonCodec();
    private final CampaignSpecSchema schema = new CampaignSpecSchema(json);

    @Test
    void theSchemaNamesEveryFieldOfTheSpecAndNoOther() throws Exception {
        JsonNode properties = json.mapper().readTree(schema.text()).path("properties");
        List<String> names = new ArrayList<>();
        properties.fieldNames().forEachRemaining(names::add);
        assertThat(names)
                .containsExactlyInAnyOrderElementsOf(Arrays.stream(CampaignSpec.class.getRecordComponents())
                        .map(c -> c.getName())
                        .toList());
        JsonNode select = properties.path("select").path("properties");
        List<String> selectNames = new ArrayList<>();
        select.fieldNames().forEachRemaining(selectNames::add);
        assertThat(selectNames)
                .containsExactlyInAnyOrderElementsOf(Arrays.stream(CampaignSpec.Selection.class.getRecordComponents())
                        .map(c -> c.getName())
                        .toList());
    }

    @Test
    void thePublishedCopyInDocsIsTheSchemaTheCodeUses() throws Exception {
        assertThat(Files.readString(Path.of("..", "docs", "schemas", "campaign-spec.json")))
                .as("docs/schemas/campaign-spec.json must equal common/src/main/resources/.../"
                        + CampaignSpecSchema.RESOURCE)
                .isEqualTo(schema.text());
    }

    @Test
    void aSpecTheCoordinatorTakesPasses() {
        CampaignSpec spec = schema.read(
                """
                name: nightly
                pools: [pool-a, pool_b]
                select: {glob: "*.avhdx", olderThan: 2d, deeperThan: 1, orphaned: report}
                action: merge-one-level
                limits: {perVolume: 1, perPool: 2, overall: 0}
                rate: 200MiB/s
                reserve: 5%
                dryRun: true
                scanTimeout: 90s
                onInsufficientSpace: ask
                transplantTo: {pools: [pool-a], volumes: [/srv/vol2]}
                moveBack: true
                windows: ["Mon-Fri 22:00-06:00", "Sat-Sun"]
                timeZone: Europe/Paris
                """);
        assertThat(spec.pools()).containsExactly("pool-a", "pool_b");
        assertThat(schema.read("{\"pools\": [\"p\"], \"reserve\": \"2GiB\", \"scanTimeout\": \"PT5M\"}")
                        .scanTimeoutDuration())
                .hasMinutes(5);
    }

    @Test
    void aMisspeltFieldIsNamed() {
        assertThatThrownBy(() -> schema.read("pools: [a]\nselect: {olderthan: 2d}\n"))
                .isInstanceOf(InvalidCampaignSpecException.class)
                .hasMessageContaining("select.olderthan")
                .satisfies(e ->
                        assertThat(((InvalidCampaignSpecException) e).fields()).containsExactly("select.olderthan"));
    }

    @Test
    void aValueOfTheWrongShapeIsNamedWithTheValue() {
        assertThatThrownBy(() -> schema.read("pools: [a]\nselect: {olderThan: two days}\n"))
                .isInstanceOf(InvalidCampaignSpecException.class)
                .hasMessageContaining("select.olderThan")
                .hasMessageContaining("two days");
        assertThatThrownBy(() -> schema.read("pools: [a]\nlimits: {perVolume: -1}\n"))
                .hasMessageContaining("limits.perVolume");
        assertThatThrownBy(() -> schema.read("pools: [a]\naction: merge-everything\n"))
                .hasMessageContaining("action")
                .hasMessageContaining("merge-to-root");
        assertThatThrownBy(() -> schema.read("pools: [a, 'bad pool']\n")).hasMessageContaining("pools[1]");
        assertThatThrownBy(() -> schema.read("pools: [a]\nrate: fast\n")).hasMessageContaining("rate");
    }

    @Test
    void aSpecWithoutPoolsOrNotAMapIsRefused() {
        assertThatThrownBy(() -> schema.read("name: x\n")).hasMessageContaining("pools: required");
        assertThatThrownBy(() -> schema.read("- a\n- b\n")).hasMessageContaining("map of fields");
        assertThatThrownBy(() -> schema.read("name: [unclosed")).hasMessageContaining("not YAML");
        assertThatThrownBy(() -> schema.read(" ")).hasMessageContaining("empty");
    }

    @Test
    void aRuleAcrossFieldsIsCheckedAfterTheSchema() {
        assertThatThrownBy(() -> schema.read("pools: [a]\nonInsufficientSpace: refuse\nmoveBack: true\n"))
                .isInstanceOf(InvalidCampaignSpecException.class)
                .hasMessageContaining("moveBack apply only when onInsufficientSpace is transplant or ask");
    }
}
