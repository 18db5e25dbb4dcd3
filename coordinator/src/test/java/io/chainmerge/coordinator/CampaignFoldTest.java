package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.common.campaign.BackupOutcome;
import io.chainmerge.common.campaign.BackupRequest;
import io.chainmerge.common.campaign.CampaignJob;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.campaign.CampaignStateChanged;
import io.chainmerge.common.campaign.CampaignSubmitted;
import io.chainmerge.common.campaign.CampaignSummarized;
import io.chainmerge.common.campaign.JobStatus;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.message.Problem;
import io.chainmerge.common.message.ReserveSpec;
import io.chainmerge.common.message.Schema;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What a campaign's fold of its events keeps at hand, so that a step costs the work under way: merges
 * refused for space that await a recovery, requests not yet answered, and, once folded to its totals,
 * nothing of its jobs (entities read after the summary are only remembered, to be dropped again).
 */
class CampaignFoldTest {
    private static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");

    @Test
    void aMergeRefusedForSpaceAwaitsARecoveryAndOneRefusedForAnotherReasonDoesNot() throws Exception {
        Campaign campaign = submitted("c-1");
        CampaignJob full = finished(campaign, "m-full", Outcome.REFUSED, "insufficient-space");
        finished(campaign, "m-siblings", Outcome.REFUSED, "siblings");
        finished(campaign, "m-done", Outcome.SUCCEEDED, null);

        assertThat(campaign.refusedForSpace).containsOnlyKeys("m-full");
        // Published again and refused again: still one entry, the latest.
        campaign.apply(full.with(JobStatus.FINISHED, full.result(), T0.plusSeconds(9)));
        assertThat(campaign.refusedForSpace).containsOnlyKeys("m-full");
    }

    @Test
    void aStandingCampaignStepsOnlyTheRequestsNotAnsweredYet() throws Exception {
        Campaign campaign = submitted("backup-b");
        BackupRequest first = request("backup-b", "r-1");
        BackupRequest second = request("backup-b", "r-2");
        campaign.apply(first);
        campaign.apply(second);
        assertThat(campaign.openRequests).containsOnlyKeys("r-1", "r-2");

        campaign.apply(first.with(
                BackupRequest.Status.ANSWERED,
                "p",
                null,
                List.of(),
                List.of(),
                new BackupOutcome("r-1", Outcome.SUCCEEDED, null, null, Map.of(), List.of(), List.of()),
                T0.plusSeconds(5)));
        assertThat(campaign.openRequests).containsOnlyKeys("r-2");
        assertThat(campaign.requests).containsOnlyKeys("r-1", "r-2");
    }

    @Test
    void aFoldedCampaignKeepsItsTotalsAndRemembersOnlyTheKeysOfEntitiesReadAfterIt() throws Exception {
        Campaign campaign = submitted("c-2");
        finished(campaign, "m-1", Outcome.SUCCEEDED, null);
        CampaignJob late = finished(campaign, "m-2", Outcome.REFUSED, "insufficient-space");
        campaign.apply(new CampaignStateChanged(
                Schema.VERSION, "c-2", null, T0.plusSeconds(10), CampaignState.FINISHED, false, "done"));
        CampaignReport.Totals totals = campaign.report(T0.plusSeconds(20)).totals();
        assertThat(totals.merged()).isEqualTo(1);
        assertThat(campaign.entityKeys()).containsExactlyInAnyOrder("c-2/job/m-1", "c-2/job/m-2");

        campaign.apply(new CampaignSummarized(Schema.VERSION, "c-2", null, T0.plusSeconds(30), totals, 2));
        // The job's record on another partition, read after the summary: ignored, its key kept to drop again.
        campaign.apply(late);

        CampaignReport report = campaign.report(T0.plusSeconds(40));
        assertThat(report.totals()).isEqualTo(totals);
        assertThat(report.jobs()).isEmpty();
        assertThat(report.summarizedAt()).isEqualTo(T0.plusSeconds(30));
        assertThat(campaign.jobs).isEmpty();
        assertThat(campaign.refusedForSpace).isEmpty();
        assertThat(campaign.leftovers).containsExactly("c-2/job/m-2");
    }

    private static Campaign submitted(String id) throws Exception {
        CampaignSpec spec =
                new JsonCodec().yaml().readValue("name: t\npools: [p]\naction: merge-to-root\n", CampaignSpec.class);
        Campaign campaign = new Campaign(id);
        campaign.apply(new CampaignSubmitted(Schema.VERSION, id, null, T0, spec));
        return campaign;
    }

    private static CampaignJob finished(Campaign campaign, String jobId, Outcome outcome, String reason) {
        MergeJob merge = new MergeJob(
                Schema.VERSION,
                jobId,
                campaign.id,
                "p",
                T0,
                "/srv/v/" + jobId + ".vhdx",
                "/srv/v/" + jobId + "_1.avhdx",
                null,
                null,
                null,
                false,
                0,
                new ReserveSpec(0, 0));
        CampaignJob planned = CampaignJob.planned(campaign.id, merge, "h", "/srv/v", T0);
        campaign.apply(planned);
        Problem problem = reason == null ? null : new Problem("refused", reason, reason, null, null, null, Map.of());
        JobResult result = JobResult.verdict(merge, "h", outcome, problem, T0, Duration.ofSeconds(1));
        CampaignJob done = planned.with(JobStatus.FINISHED, result, T0.plusSeconds(1));
        campaign.apply(done);
        return done;
    }

    private static BackupRequest request(String campaignId, String requestId) {
        return new BackupRequest(
                Schema.VERSION,
                campaignId,
                null,
                T0,
                requestId,
                BackupRequest.Kind.CHECKPOINT_RELEASED,
                "/backup/b",
                "e-" + requestId,
                "p",
                null,
                "/srv/v/vm_1.avhdx",
                null,
                null,
                0,
                T0,
                BackupRequest.Status.RECEIVED,
                null,
                List.of(),
                List.of(),
                null);
    }
}
