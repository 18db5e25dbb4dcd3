package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.common.campaign.CampaignJob;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.ReserveSpec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.SpaceCheckJob;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One job out per chain across campaigns: who may be published, and what a takeover meets. */
class ChainLeasesTest {
    private static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");

    @Test
    void aChainHeldByOneCampaignsJobWaitsAnotherCampaignsJobUntilReleased() {
        ChainLeases chains = new ChainLeases((host, volume) -> null);
        CampaignJob fleet = merge("c-fleet", "m-1", "p", "/srv/v/vm.vhdx");
        CampaignJob backup = merge("backup-b", "m-2", "p", "/srv/v/vm.vhdx");

        assertThat(chains.take(fleet)).isNull();
        assertThat(chains.heldByAnother(fleet)).as("its own lease").isNull();
        assertThat(chains.heldByAnother(backup)).isEqualTo(new ChainLeases.Holder("c-fleet", "m-1"));

        chains.release("m-1");
        assertThat(chains.heldByAnother(backup)).isNull();
        assertThat(chains.held()).isZero();
    }

    @Test
    void theSameRootPathInAnotherPoolIsAnotherChain() {
        ChainLeases chains = new ChainLeases((host, volume) -> null);
        chains.take(merge("c-1", "m-1", "pool-a", "/srv/v/vm.vhdx"));
        assertThat(chains.heldByAnother(merge("c-1", "m-2", "pool-b", "/srv/v/vm.vhdx")))
                .isNull();
    }

    @Test
    void oneVolumeMountedByTwoPoolsAtDifferentPathsIsOneSetOfChainsOnceItsIdIsKnown() {
        // hv-a mounts the volume at /srv/v (pool-a), hv-b at /mnt/shared (pool-b); both reported its id.
        Map<String, String> ids = Map.of("hv-a:/srv/v", "vol-1", "hv-b:/mnt/shared", "vol-1");
        ChainLeases chains = new ChainLeases((host, volume) -> ids.get(host + ":" + volume));
        CampaignJob viaA = merge("c-1", "m-1", "pool-a", "hv-a", "/srv/v", "/srv/v/vm7/vm.vhdx");
        CampaignJob viaB = merge("c-2", "m-2", "pool-b", "hv-b", "/mnt/shared", "/mnt/shared/vm7/vm.vhdx");
        CampaignJob otherChain = merge("c-2", "m-3", "pool-b", "hv-b", "/mnt/shared", "/mnt/shared/vm8/vm.vhdx");

        chains.take(viaA);

        assertThat(chains.heldByAnother(viaB)).isEqualTo(new ChainLeases.Holder("c-1", "m-1"));
        assertThat(chains.heldByAnother(otherChain)).isNull();
        chains.release("m-1");
        assertThat(chains.heldByAnother(viaB)).isNull();
        assertThat(chains.held()).isZero();
    }

    @Test
    void twoJobsOutOnOneChainAtATakeoverLeaveItToTheFirstAndReleasingTheOtherKeepsIt() {
        ChainLeases chains = new ChainLeases((host, volume) -> null);
        chains.take(merge("c-1", "m-1", "p", "/srv/v/vm.vhdx"));
        assertThat(chains.take(merge("c-2", "m-2", "p", "/srv/v/vm.vhdx")))
                .isEqualTo(new ChainLeases.Holder("c-1", "m-1"));

        chains.release("m-2");
        assertThat(chains.heldByAnother(merge("c-3", "m-3", "p", "/srv/v/vm.vhdx")))
                .isEqualTo(new ChainLeases.Holder("c-1", "m-1"));
    }

    @Test
    void aSpaceCheckWritesNoChain() {
        SpaceCheckJob scan = new SpaceCheckJob(Schema.VERSION, "c-1-scan-p", "c-1", "p", T0, List.of());
        assertThat(ChainLeases.writes(CampaignJob.planned("c-1", scan, null, null, T0)))
                .isFalse();
        assertThat(ChainLeases.writes(merge("c-1", "m-1", "p", "/srv/v/vm.vhdx")))
                .isTrue();
    }

    private static CampaignJob merge(String campaignId, String jobId, String pool, String root) {
        return merge(campaignId, jobId, pool, "h", "/srv/v", root);
    }

    private static CampaignJob merge(
            String campaignId, String jobId, String pool, String host, String volume, String root) {
        MergeJob merge = new MergeJob(
                Schema.VERSION,
                jobId,
                campaignId,
                pool,
                T0,
                root,
                root.replace(".vhdx", "_1.avhdx"),
                null,
                null,
                null,
                false,
                0,
                new ReserveSpec(0, 0));
        return CampaignJob.planned(campaignId, merge, host, volume, T0);
    }
}
