package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.common.campaign.CampaignSkip;
import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.campaign.CampaignSpec.Action;
import io.chainmerge.common.campaign.CampaignSpec.Orphans;
import io.chainmerge.common.campaign.CampaignSpec.Selection;
import io.chainmerge.common.message.InventoryDisk;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.VolumeInventory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlannerTest {
    private static final Instant NOW = Instant.parse("2026-11-25T12:00:00Z");
    private static final Instant OLD = NOW.minus(Duration.ofDays(3));

    private final List<InventoryDisk> disks = new ArrayList<>();

    @Test
    void mergesEachLinearChainIntoItsRootInOnePass() {
        root("/v/a.vhdx", "/v/a_1.avhdx");
        diff("/v/a_1.avhdx", "/v/a.vhdx", 2, OLD, "/v/a_2.avhdx");
        diff("/v/a_2.avhdx", "/v/a_1.avhdx", 3, OLD);
        root("/v/b.vhdx", "/v/b_1.avhdx");
        diff("/v/b_1.avhdx", "/v/b.vhdx", 2, OLD);

        Planner.Plan plan = plan(spec(Action.MERGE_TO_ROOT, Selection.ALL));

        assertThat(plan.jobs())
                .extracting(j -> j.job().child(), j -> j.job().destination())
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("/v/a_2.avhdx", "/v/a.vhdx"),
                        org.assertj.core.groups.Tuple.tuple("/v/b_1.avhdx", null));
        assertThat(plan.jobs())
                .allSatisfy(j -> assertThat(j.job().key()).isEqualTo(j.job().chain()));
        assertThat(plan.skips()).isEmpty();
    }

    @Test
    void stopsAtTheFirstDiskTheSelectionDoesNotPick() {
        root("/v/a.vhdx", "/v/a_1.avhdx");
        diff("/v/a_1.avhdx", "/v/a.vhdx", 2, OLD, "/v/a_2.avhdx");
        diff("/v/a_2.avhdx", "/v/a_1.avhdx", 3, NOW.minusSeconds(60)); // the running checkpoint: too young

        Planner.Plan plan = plan(spec(Action.MERGE_TO_ROOT, new Selection("*.avhdx", "2d", 0, Orphans.REPORT)));

        assertThat(plan.jobs()).singleElement().satisfies(j -> {
            assertThat(j.job().child()).isEqualTo("/v/a_1.avhdx");
            assertThat(j.job().destination()).isNull();
        });
    }

    @Test
    void reportsTheBranchesAboveADiskWithSeveralChildrenAndMergesBelowIt() {
        root("/v/w.vhdx", "/v/w_base.avhdx");
        diff("/v/w_base.avhdx", "/v/w.vhdx", 2, OLD, "/v/w_a.avhdx", "/v/w_b.avhdx");
        diff("/v/w_a.avhdx", "/v/w_base.avhdx", 3, OLD);
        diff("/v/w_b.avhdx", "/v/w_base.avhdx", 3, OLD);

        Planner.Plan plan = plan(spec(Action.MERGE_TO_ROOT, Selection.ALL));

        assertThat(plan.jobs())
                .singleElement()
                .satisfies(j -> assertThat(j.job().child()).isEqualTo("/v/w_base.avhdx"));
        assertThat(plan.skips())
                .extracting(CampaignSkip::disk, CampaignSkip::reason)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("/v/w_a.avhdx", "siblings"),
                        org.assertj.core.groups.Tuple.tuple("/v/w_b.avhdx", "siblings"));
    }

    @Test
    void reportsOrphansAndNeverMergesThem() {
        disks.add(new InventoryDisk(
                "/v/lost_2.avhdx",
                "VHDX",
                "DIFFERENCING",
                1,
                1,
                OLD,
                "MISSING_PARENT",
                null,
                List.of("/v/lost_3.avhdx"),
                1,
                null,
                "parent missing"));
        diff("/v/lost_3.avhdx", "/v/lost_2.avhdx", 2, OLD);

        assertThat(plan(spec(Action.MERGE_TO_ROOT, Selection.ALL)).skips())
                .singleElement()
                .satisfies(s -> {
                    assertThat(s.disk()).isEqualTo("/v/lost_2.avhdx");
                    assertThat(s.reason()).isEqualTo("missing-parent");
                });
        assertThat(plan(spec(Action.MERGE_TO_ROOT, new Selection(null, null, 0, Orphans.EXCLUDE)))
                        .skips())
                .isEmpty();
        assertThat(plan(spec(Action.MERGE_TO_ROOT, Selection.ALL)).jobs()).isEmpty();
    }

    @Test
    void oneLevelMergesTheLowestCheckpointAndFlattenWritesANewFile() {
        root("/v/a.vhdx", "/v/a_1.avhdx");
        diff("/v/a_1.avhdx", "/v/a.vhdx", 2, OLD, "/v/a_2.avhdx");
        diff("/v/a_2.avhdx", "/v/a_1.avhdx", 3, OLD);

        MergeJob oneLevel =
                plan(spec(Action.MERGE_ONE_LEVEL, Selection.ALL)).jobs().get(0).job();
        assertThat(oneLevel.child()).isEqualTo("/v/a_1.avhdx");
        MergeJob flatten =
                plan(spec(Action.FLATTEN, Selection.ALL)).jobs().get(0).job();
        assertThat(flatten.child()).isEqualTo("/v/a_2.avhdx");
        assertThat(flatten.intoNew()).isEqualTo("/v/a-flat.vhdx");
    }

    @Test
    void leavesChainsNoDeeperThanAskedAndGivesTheSameJobIdsEveryTime() {
        root("/v/a.vhdx", "/v/a_1.avhdx");
        diff("/v/a_1.avhdx", "/v/a.vhdx", 2, OLD);
        assertThat(plan(spec(Action.MERGE_TO_ROOT, new Selection(null, null, 2, Orphans.REPORT)))
                        .jobs())
                .isEmpty();
        assertThat(plan(spec(Action.MERGE_TO_ROOT, Selection.ALL))
                        .jobs()
                        .get(0)
                        .job()
                        .jobId())
                .isEqualTo(plan(spec(Action.MERGE_TO_ROOT, Selection.ALL))
                        .jobs()
                        .get(0)
                        .job()
                        .jobId());
    }

    private void root(String path, String... children) {
        disks.add(
                new InventoryDisk(path, "VHDX", "DYNAMIC", 1, 1, OLD, "ROOT", null, List.of(children), 1, path, null));
    }

    private void diff(String path, String parent, int depth, Instant modified, String... children) {
        disks.add(new InventoryDisk(
                path, "VHDX", "DIFFERENCING", 1, 1, modified, "LINKED", parent, List.of(children), depth, null, null));
    }

    private static CampaignSpec spec(Action action, Selection selection) {
        return new CampaignSpec(
                "t",
                List.of("p"),
                null,
                null,
                selection,
                action,
                null,
                null,
                "100MiB/s",
                "1GiB",
                false,
                null,
                null,
                null,
                null);
    }

    private Planner.Plan plan(CampaignSpec spec) {
        VolumeInventory volume = new VolumeInventory(
                Schema.VERSION, "scan", "c1", "p", "h1", "/v", NOW, "ext4", 100, 50, disks, null, null, 0, null, null);
        return Planner.plan("c1", spec, Map.of("p", List.of(volume)), NOW);
    }
}
