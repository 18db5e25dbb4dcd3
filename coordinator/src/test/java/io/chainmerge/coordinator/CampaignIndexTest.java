package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.common.campaign.CampaignJob;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.campaign.CampaignSubmitted;
import io.chainmerge.common.campaign.CampaignSummarized;
import io.chainmerge.common.campaign.JobStatus;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.message.ReserveSpec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.SpaceCheckJob;
import io.chainmerge.coordinator.Campaign.VolumeKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The indexes a campaign keeps so that a result costs its job, not the campaign (what may go, per volume in
 * plan order; what is out, per volume, pool and overall) always equal a count from scratch over its jobs,
 * whatever order events, sends and their ends come in: random sequences with fixed seeds.
 */
class CampaignIndexTest {
    private static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");
    private static final List<String> POOLS = List.of("p0", "p1");
    private static final List<String> VOLUMES = List.of("/srv/v0", "/srv/v1", "/srv/v2");

    @Test
    void theIndexesEqualARecountAfterEveryEventOfRandomSequences() throws Exception {
        for (long seed = 1; seed <= 20; seed++) {
            Random random = new Random(seed);
            Campaign campaign = submitted("c-" + seed);
            List<CampaignJob> known = new ArrayList<>();
            List<String> firstSeen = new ArrayList<>();
            for (int step = 0; step < 400; step++) {
                int what = random.nextInt(10);
                if (known.isEmpty() || what == 0) {
                    CampaignJob planned = planned(campaign.id, "j-" + known.size(), random);
                    known.add(planned);
                    firstSeen.add(planned.jobId());
                    campaign.apply(planned);
                } else {
                    CampaignJob job = known.get(random.nextInt(known.size()));
                    CampaignJob current = campaign.jobs.get(job.jobId());
                    switch (what) {
                        case 1, 2 -> campaign.sending(job.jobId());
                        case 3, 4 -> campaign.sent(job.jobId());
                        case 5, 6 -> campaign.apply(current.published(T0.plusSeconds(step)));
                        case 7 ->
                            campaign.apply(
                                    current.with(JobStatus.FINISHED, succeeded(current.job()), T0.plusSeconds(step)));
                        case 8 -> campaign.apply(job); // a record read again, as planned: the latest wins
                        default -> {
                            // a finished job's send reported after its result: no longer out
                            campaign.apply(
                                    current.with(JobStatus.FINISHED, succeeded(current.job()), T0.plusSeconds(step)));
                            campaign.sent(job.jobId());
                        }
                    }
                    if (current.status() == JobStatus.FINISHED
                            && campaign.jobs.get(job.jobId()).status() != JobStatus.FINISHED) {
                        // a finished job that lives again (an older record read again) queues anew
                        firstSeen.remove(job.jobId());
                        firstSeen.add(job.jobId());
                    }
                }
                assertIndexesAreARecount(campaign, firstSeen, "seed " + seed + ", step " + step);
            }
            campaign.apply(new CampaignSummarized(
                    Schema.VERSION,
                    campaign.id,
                    null,
                    T0.plusSeconds(1000),
                    new CampaignReport.Totals(0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
                    known.size()));
            assertThat(campaign.runnable).isEmpty();
            assertThat(campaign.runnableLight).isEmpty();
            assertThat(campaign.outPerVolume).isEmpty();
            assertThat(campaign.outPerPool).isEmpty();
            assertThat(campaign.outOverall).isZero();
        }
    }

    private static void assertIndexesAreARecount(Campaign campaign, List<String> firstSeen, String where) {
        Map<VolumeKey, Integer> perVolume = new HashMap<>();
        Map<String, Integer> perPool = new HashMap<>();
        int overall = 0;
        Map<VolumeKey, List<String>> runnable = new LinkedHashMap<>();
        List<String> light = new ArrayList<>();
        for (String id : firstSeen) {
            CampaignJob job = campaign.jobs.get(id);
            if (job.status() == JobStatus.FINISHED) {
                continue;
            }
            boolean out = job.status() == JobStatus.PUBLISHED || campaign.publishing(id);
            boolean canGo = job.status() == JobStatus.PLANNED && !campaign.publishing(id);
            if (!Campaign.heavy(job)) {
                if (canGo) {
                    light.add(id);
                }
                continue;
            }
            VolumeKey volume = VolumeKey.of(job);
            if (out) {
                perVolume.merge(volume, 1, Integer::sum);
                perPool.merge(job.job().pool(), 1, Integer::sum);
                overall++;
            }
            if (canGo) {
                runnable.computeIfAbsent(volume, v -> new ArrayList<>()).add(id);
            }
        }
        assertThat(campaign.outPerVolume).as(where).isEqualTo(perVolume);
        assertThat(campaign.outPerPool).as(where).isEqualTo(perPool);
        assertThat(campaign.outOverall).as(where).isEqualTo(overall);
        Map<VolumeKey, List<String>> indexed = new HashMap<>();
        campaign.runnable.forEach((volume, queue) -> indexed.put(
                volume, queue.values().stream().map(CampaignJob::jobId).toList()));
        assertThat(indexed).as(where).isEqualTo(runnable);
        assertThat(campaign.runnableLight.values().stream()
                        .map(CampaignJob::jobId)
                        .toList())
                .as(where)
                .isEqualTo(light);
        // Every queued job is the latest record of it.
        campaign.runnable.values().forEach(queue -> queue.values()
                .forEach(job -> assertThat(job).as(where).isSameAs(campaign.jobs.get(job.jobId()))));
    }

    private static CampaignJob planned(String campaignId, String jobId, Random random) {
        String pool = POOLS.get(random.nextInt(POOLS.size()));
        String volume = VOLUMES.get(random.nextInt(VOLUMES.size()));
        Job job =
                switch (random.nextInt(4)) {
                    case 0 -> new SpaceCheckJob(Schema.VERSION, jobId, campaignId, pool, T0, List.of());
                    default ->
                        new MergeJob(
                                Schema.VERSION,
                                jobId,
                                campaignId,
                                pool,
                                T0,
                                volume + "/" + jobId + "/vm.vhdx",
                                volume + "/" + jobId + "/vm_1.avhdx",
                                null,
                                null,
                                null,
                                false,
                                0,
                                new ReserveSpec(0, 0));
                };
        return CampaignJob.planned(campaignId, job, "h", volume, T0);
    }

    private static JobResult succeeded(Job job) {
        return JobResult.verdict(job, "h", Outcome.SUCCEEDED, null, T0, Duration.ofSeconds(1));
    }

    private static Campaign submitted(String id) throws Exception {
        CampaignSpec spec = new JsonCodec()
                .yaml()
                .readValue("name: t\npools: [p0, p1]\naction: merge-to-root\n", CampaignSpec.class);
        Campaign campaign = new Campaign(id);
        campaign.apply(new CampaignSubmitted(Schema.VERSION, id, null, T0, spec));
        return campaign;
    }
}
