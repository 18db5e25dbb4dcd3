package io.chainmerge.common;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.common.campaign.CampaignEvent;
import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.DeadLetter;
import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.JobProgress;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.VolumeInventory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Every example in docs/messages.md and docs/campaigns.md parses as the type it is shown for. */
class DocsExamplesTest {
    private static final Pattern EXAMPLE =
            Pattern.compile("<!-- example: (\\w+) -->\\s*```(?:json|yaml)\\n(.*?)```", Pattern.DOTALL);
    private static final Map<String, Class<?>> TYPES = Map.of(
            "Job", Job.class,
            "JobResult", JobResult.class,
            "JobProgress", JobProgress.class,
            "VolumeInventory", VolumeInventory.class,
            "DeadLetter", DeadLetter.class,
            "CampaignEvent", CampaignEvent.class,
            "CampaignSpec", CampaignSpec.class,
            "AuditRecord", io.chainmerge.common.audit.AuditRecord.class);

    private final JsonCodec json = new JsonCodec();
    private final MessageCodec codec = new MessageCodec(json);

    @Test
    void everyMessageExampleIsAValidMessage() throws Exception {
        List<String> kinds = new ArrayList<>();
        for (String[] example : examples("messages.md")) {
            Object message = codec.read(example[1].getBytes(StandardCharsets.UTF_8), TYPES.get(example[0]));
            kinds.add(message instanceof Job job ? "Job:" + job.kind().wireName() : example[0]);
        }
        assertThat(kinds)
                .contains(
                        "Job:space-check",
                        "Job:merge",
                        "Job:set-parent",
                        "Job:transplant",
                        "JobResult",
                        "JobProgress",
                        "VolumeInventory",
                        "DeadLetter",
                        "CampaignEvent",
                        "AuditRecord");
    }

    @Test
    void theCampaignSpecExampleIsAValidSpec() throws Exception {
        List<String[]> examples = examples("campaigns.md");
        assertThat(examples).isNotEmpty();
        for (String[] example : examples) {
            // Read through the published schema, as the CLI and the coordinator read a spec.
            CampaignSpec spec = new io.chainmerge.common.campaign.CampaignSpecSchema(json).read(example[1]);
            assertThat(spec.pools()).isNotEmpty();
        }
    }

    private static List<String[]> examples(String doc) throws Exception {
        String text = Files.readString(Path.of("..", "docs", doc));
        List<String[]> found = new ArrayList<>();
        Matcher matcher = EXAMPLE.matcher(text);
        while (matcher.find()) {
            found.add(new String[] {matcher.group(1), matcher.group(2)});
        }
        return found;
    }
}
