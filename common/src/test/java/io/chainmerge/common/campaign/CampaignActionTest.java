package io.chainmerge.common.campaign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.MalformedMessageException;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.Schema;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** A campaign's history of who did what, and the reports written before it was kept. */
class CampaignActionTest {
    private final JsonCodec json = new JsonCodec();
    private final MessageCodec codec = new MessageCodec(json);

    @Test
    void anActionIsACampaignEventKeptUnderItsOwnKey() throws Exception {
        CampaignAction pause = new CampaignAction(
                Schema.VERSION,
                "c-1",
                null,
                Instant.parse("2026-12-07T14:02:11Z"),
                2,
                "pause",
                "ops",
                "10.0.4.17",
                null);
        CampaignEvent read = codec.read(codec.write(pause), CampaignEvent.class);
        assertThat(read).isEqualTo(pause);
        assertThat(read.key()).isEqualTo("c-1/action/2");
    }

    @Test
    void anActionWithoutAPrincipalOrNumberIsRefused() {
        String noPrincipal =
                """
                {"type": "action", "schemaVersion": 1, "campaignId": "c-1", "at": "2026-12-07T14:02:11Z",
                 "sequence": 1, "action": "submit"}
                """;
        assertThatThrownBy(() -> codec.read(noPrincipal.getBytes(StandardCharsets.UTF_8), CampaignEvent.class))
                .isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining("principal");
        assertThatThrownBy(() ->
                        new CampaignAction(Schema.VERSION, "c-1", null, Instant.now(), 0, "submit", "ops", null, null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aReportWrittenBeforeActionsWereKeptStillReads() throws Exception {
        String old =
                """
                {"campaignId": "c-1", "name": "nightly", "state": "running", "paused": false, "dryRun": false,
                 "submittedAt": "2026-11-25T10:00:00Z", "endedAt": null, "elapsed": "PT1M",
                 "totals": {"jobs": 0, "waiting": 0, "running": 0, "merged": 0, "refused": 0, "failed": 0,
                            "skipped": 0, "bytesMerged": 0, "reclaimedBytes": 0},
                 "jobs": [], "skipped": [], "recoveries": []}
                """;
        CampaignReport report = json.mapper().readValue(old, CampaignReport.class);
        assertThat(report.submittedBy()).isNull();
        assertThat(report.actions()).isEmpty();
        assertThat(report.totals().republished()).isZero();
    }
}
