package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.common.campaign.CampaignJob;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.ReserveSpec;
import io.chainmerge.common.message.Schema;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A volume's budget across campaigns and pools: who may start, who waits and why, and what a takeover meets. */
class VolumeBudgetTest {
    private static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");
    // hv-a reaches the volume at /srv/v (pool-a), hv-b at /mnt/shared (pool-b); both scans reported its id.
    private static final Map<String, String> IDS = Map.of("hv-a:/srv/v", "vol-1", "hv-b:/mnt/shared", "vol-1");

    @Test
    void twoPoolsReachingOneVolumeShareItsBudgetOnceItsIdIsKnown() {
        VolumeBudget budget = new VolumeBudget(1, (host, volume) -> IDS.get(host + ":" + volume));
        CampaignJob viaA = merge("m-1", "pool-a", "hv-a", "/srv/v", false);
        CampaignJob viaB = merge("m-2", "pool-b", "hv-b", "/mnt/shared", false);

        assertThat(budget.fullFor(viaA)).isNull();
        budget.take(viaA);

        assertThat(budget.fullFor(viaB))
                .isEqualTo("its volume runs 1 merges or transplants already (limits.per-volume 1)");
        assertThat(budget.fullFor(viaA)).as("its own place").isNull();
        budget.release("m-1");
        assertThat(budget.fullFor(viaB)).isNull();
        assertThat(budget.running()).isZero();
    }

    @Test
    void withoutTheVolumesIdTwoPoolsCountApartAndOnePoolsJobsCountTogether() {
        VolumeBudget budget = new VolumeBudget(2, (host, volume) -> null);
        budget.take(merge("m-1", "pool-a", "hv-a", "/srv/v", false));
        budget.take(merge("m-2", "pool-a", "hv-a2", "/srv/v", false));

        assertThat(budget.fullFor(merge("m-3", "pool-a", "hv-a", "/srv/v", false)))
                .isNotNull();
        assertThat(budget.fullFor(merge("m-4", "pool-b", "hv-b", "/mnt/shared", false)))
                .isNull();
    }

    @Test
    void dryRunsTakeNoPlaceAndABudgetOfZeroLimitsNothing() {
        assertThat(VolumeBudget.counts(merge("m-1", "pool-a", "hv-a", "/srv/v", true)))
                .isFalse();
        assertThat(VolumeBudget.counts(merge("m-1", "pool-a", "hv-a", "/srv/v", false)))
                .isTrue();
        VolumeBudget none = new VolumeBudget(0, (host, volume) -> null);
        none.take(merge("m-1", "pool-a", "hv-a", "/srv/v", false));
        assertThat(none.fullFor(merge("m-2", "pool-a", "hv-a", "/srv/v", false)))
                .isNull();
        assertThatThrownBy(() -> new VolumeBudget(-1, (host, volume) -> null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aTakeoverCountsEveryJobOutEvenPastTheBudgetAndReleasesThemOneByOne() {
        VolumeBudget budget = new VolumeBudget(1, (host, volume) -> null);
        budget.take(merge("m-1", "p", "h", "/srv/v", false));
        budget.take(merge("m-2", "p", "h", "/srv/v", false)); // both out when the old leader died
        CampaignJob next = merge("m-3", "p", "h", "/srv/v", false);

        budget.release("m-1");
        assertThat(budget.fullFor(next)).as("m-2 still runs").isNotNull();
        budget.release("m-2");
        assertThat(budget.fullFor(next)).isNull();
    }

    private static CampaignJob merge(String jobId, String pool, String host, String volume, boolean dryRun) {
        MergeJob merge = new MergeJob(
                Schema.VERSION,
                jobId,
                "c-1",
                pool,
                T0,
                volume + "/" + jobId + ".vhdx",
                volume + "/" + jobId + "_1.avhdx",
                null,
                null,
                null,
                dryRun,
                0,
                new ReserveSpec(0, 0));
        return CampaignJob.planned("c-1", merge, host, volume, T0);
    }
}
