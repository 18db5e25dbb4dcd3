package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.common.campaign.CampaignRecovery;
import io.chainmerge.common.campaign.CampaignRecovery.Step;
import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.campaign.CampaignSpec.SpacePolicy;
import io.chainmerge.common.campaign.CampaignSpec.TransplantTargets;
import io.chainmerge.common.campaign.RecoveryStatus;
import io.chainmerge.common.message.InventoryDisk;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.TransplantJob;
import io.chainmerge.common.message.VolumeInventory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which disks a recovery moves, where, and the merge that follows: the planner's choices, one by one. */
class SpaceRecoveryTest {
    private static final Instant NOW = Instant.parse("2026-11-25T12:00:00Z");
    private static final Instant OLD = NOW.minus(Duration.ofDays(3));
    private static final long MIB = 1 << 20;

    /** The full volume: /v on h1 in pool p, with the chain a.vhdx ← a_1 ← a_2 (10 + 4 + 4 MiB). */
    private final List<InventoryDisk> full = new ArrayList<>(List.of(
            root("/v/vm/a.vhdx", 10, "/v/vm/a_1.avhdx"),
            diff("/v/vm/a_1.avhdx", "/v/vm/a.vhdx", 2, 4, "/v/vm/a_2.avhdx"),
            diff("/v/vm/a_2.avhdx", "/v/vm/a_1.avhdx", 3, 4)));

    private final Map<String, List<VolumeInventory>> fleet = new HashMap<>();

    private VolumeInventory source(long usable) {
        return volume("p", "h1", "/v", usable, full);
    }

    @Test
    void movesTheDestinationToAnotherVolumeOfTheSameWorkerFirstAndMergesThere() {
        add(source(1 * MIB));
        add(volume("p", "h1", "/w", 40 * MIB, List.of()));
        add(volume("p", "h2", "/x", 900 * MIB, List.of())); // more room, but another worker

        CampaignRecovery recovery = recoverOnlyMerge(spec(SpacePolicy.TRANSPLANT, null, false), 8 * MIB);

        assertThat(recovery.status()).isEqualTo(RecoveryStatus.RUNNING);
        assertThat(recovery.steps()).extracting(Step::action).containsExactly("move", "merge");
        TransplantJob move = (TransplantJob) recovery.steps().get(0).job();
        assertThat(move.disks()).containsExactly("/v/vm/a.vhdx");
        assertThat(move.targetFolder()).isEqualTo("/w/vm");
        assertThat(move.source()).isNull();
        assertThat(move.pool()).isEqualTo("p");
        assertThat(move.roomForMergeBytes()).isEqualTo(8 * MIB);
        MergeJob merge = (MergeJob) recovery.steps().get(1).job();
        assertThat(merge.chain()).isEqualTo("/w/vm/a.vhdx");
        assertThat(merge.child()).isEqualTo("/v/vm/a_2.avhdx");
        assertThat(merge.destination()).isEqualTo("/w/vm/a.vhdx");
        assertThat(recovery.steps().get(1).volume()).isEqualTo("/w");
        assertThat(recovery.explanation()).contains("same worker");
    }

    @Test
    void movesTheWholeChainToAnotherWorkerWhenTheSameWorkerHasNoRoom() {
        add(source(1 * MIB));
        add(volume("p", "h1", "/w", 12 * MIB, List.of())); // the 10 MiB root fits, with the growth it does not
        add(volume("q", "h3", "/big", 500 * MIB, List.of()));
        add(volume("p", "h2", "/x", 100 * MIB, List.of()));

        CampaignRecovery recovery = recoverOnlyMerge(spec(SpacePolicy.TRANSPLANT, List.of("p", "q"), false), 8 * MIB);

        TransplantJob move = (TransplantJob) recovery.steps().get(0).job();
        // The same pool comes before a pool with more room.
        assertThat(move.pool()).isEqualTo("p");
        assertThat(recovery.steps().get(0).host()).isEqualTo("h2");
        assertThat(move.disks()).containsExactly("/v/vm/a_2.avhdx", "/v/vm/a_1.avhdx", "/v/vm/a.vhdx");
        assertThat(move.source().url()).isEqualTo("http://h1:8081");
        assertThat(move.source().worker()).isEqualTo("h1");
        assertThat(move.targetFolder()).isEqualTo("/x/vm");
        MergeJob merge = (MergeJob) recovery.steps().get(1).job();
        assertThat(merge.pool()).isEqualTo("p");
        assertThat(merge.chain()).isEqualTo("/x/vm/a.vhdx");
        assertThat(merge.child()).isEqualTo("/x/vm/a_2.avhdx");
        assertThat(merge.destination()).isEqualTo("/x/vm/a.vhdx");
        assertThat(recovery.explanation()).contains("no volume of h1 has room");
    }

    @Test
    void onlyTheAllowedTargetsReceiveDisks() {
        add(source(1 * MIB));
        add(volume("p", "h2", "/x", 900 * MIB, List.of()));
        add(volume("q", "h3", "/big", 500 * MIB, List.of()));
        add(volume("q", "h3", "/big2", 600 * MIB, List.of()));

        CampaignSpec onlyBig =
                spec(SpacePolicy.TRANSPLANT, new TransplantTargets(List.of("q"), List.of("/big")), false);
        TransplantJob move = (TransplantJob)
                recoverOnlyMerge(onlyBig, 8 * MIB).steps().get(0).job();

        assertThat(move.targetFolder()).isEqualTo("/big/vm");
        assertThat(move.pool()).isEqualTo("q");
    }

    @Test
    void aChainWithBranchesDoesNotMoveToAnotherWorkerAndOtherChainsMakeRoomInstead() {
        full.set(1, diff("/v/vm/a_1.avhdx", "/v/vm/a.vhdx", 2, 4, "/v/vm/a_2.avhdx", "/v/vm/a_b.avhdx"));
        full.add(diff("/v/vm/a_b.avhdx", "/v/vm/a_1.avhdx", 3, 1));
        full.add(root("/v/big.vhdx", 30));
        full.add(root("/v/small.vhdx", 2));
        full.add(root("/v/mid.vhdx", 6, "/v/mid_1.avhdx"));
        full.add(diff("/v/mid_1.avhdx", "/v/mid.vhdx", 2, 3));
        add(source(1 * MIB));
        add(volume("p", "h2", "/x", 100 * MIB, List.of()));

        // Merging a_1 into a (one level) needs 4 MiB; 3 MiB are missing.
        MergeJob oneLevel = merge("/v/vm/a_1.avhdx", null);
        CampaignRecovery recovery = SpaceRecovery.plan(
                "c1",
                spec(SpacePolicy.TRANSPLANT, null, false),
                new SpaceRecovery.Need(
                        new Planner.PlannedJob(oneLevel, "h1", "/v", 4 * MIB), "p", "refused", 4 * MIB, MIB),
                all(),
                Map.of(),
                Set.of(),
                NOW);

        assertThat(recovery.steps()).extracting(Step::action).containsExactly("make-room", "merge");
        TransplantJob away = (TransplantJob) recovery.steps().get(0).job();
        assertThat(away.disks()).containsExactly("/v/big.vhdx"); // the largest frees the most room
        assertThat(away.source().url()).isEqualTo("http://h1:8081");
        MergeJob again = (MergeJob) recovery.steps().get(1).job();
        assertThat(again.child()).isEqualTo("/v/vm/a_1.avhdx");
        assertThat(again.chain()).isEqualTo("/v/vm/a.vhdx");
        assertThat(again.jobId()).isNotEqualTo(oneLevel.jobId());
        assertThat(recovery.explanation()).contains("1 other chains");
    }

    @Test
    void noRecoveryWhenNoAllowedVolumeHasRoomAndTheReportSaysWhy() {
        add(source(1 * MIB));
        add(volume("p", "h1", "/w", 5 * MIB, List.of()));
        add(volume("p", "h2", "/x", 6 * MIB, List.of()));

        CampaignRecovery recovery = recoverOnlyMerge(spec(SpacePolicy.TRANSPLANT, null, false), 8 * MIB);

        assertThat(recovery.status()).isEqualTo(RecoveryStatus.IMPOSSIBLE);
        assertThat(recovery.steps()).isEmpty();
        assertThat(recovery.message())
                .contains("h1:/w has 5.0 MiB, 18.0 MiB needed")
                .contains("h2:/x has 6.0 MiB, 26.0 MiB needed for the whole chain");
    }

    @Test
    void aWorkerThatReportsNoUrlCannotSendItsFilesAway() {
        fleet.computeIfAbsent("p", p -> new ArrayList<>())
                .add(new VolumeInventory(
                        Schema.VERSION,
                        "s",
                        "c1",
                        "p",
                        "h1",
                        "/v",
                        NOW,
                        "tmpfs",
                        GIB,
                        MIB,
                        full,
                        null,
                        null,
                        0,
                        null,
                        null));
        add(volume("p", "h2", "/x", 900 * MIB, List.of()));

        CampaignRecovery recovery = recoverOnlyMerge(spec(SpacePolicy.TRANSPLANT, null, false), 8 * MIB);

        assertThat(recovery.status()).isEqualTo(RecoveryStatus.IMPOSSIBLE);
        assertThat(recovery.message()).contains("did not report its URL");
    }

    @Test
    void movesTheMergedResultBackWhenAsked() {
        add(source(1 * MIB));
        add(volume("p", "h2", "/x", 900 * MIB, List.of()));

        CampaignRecovery recovery = recoverOnlyMerge(spec(SpacePolicy.TRANSPLANT, null, true), 8 * MIB);

        assertThat(recovery.steps()).extracting(Step::action).containsExactly("move", "merge", "move-back");
        TransplantJob back = (TransplantJob) recovery.steps().get(2).job();
        // The merge removes a_2 and a_1: only the grown root comes back, pulled by the source worker.
        assertThat(back.disks()).containsExactly("/x/vm/a.vhdx");
        assertThat(back.targetFolder()).isEqualTo("/v/vm");
        assertThat(back.pool()).isEqualTo("p");
        assertThat(back.source().worker()).isEqualTo("h2");
        assertThat(back.source().url()).isEqualTo("http://h2:8081");
        assertThat(recovery.steps().get(2).host()).isEqualTo("h1");
    }

    @Test
    void askProposesTheRecoveryAndADryRunOnlyExplainsIt() {
        add(source(1 * MIB));
        add(volume("p", "h2", "/x", 900 * MIB, List.of()));

        assertThat(recoverOnlyMerge(spec(SpacePolicy.ASK, null, false), 8 * MIB).status())
                .isEqualTo(RecoveryStatus.PROPOSED);
        CampaignSpec dry = new CampaignSpec(
                "t",
                List.of("p"),
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                "0",
                true,
                null,
                SpacePolicy.TRANSPLANT,
                null,
                null);
        assertThat(recoverOnlyMerge(dry, 8 * MIB).status()).isEqualTo(RecoveryStatus.DRY_RUN);
    }

    @Test
    void roomAnotherRecoveryCountsOnIsNotOfferedTwice() {
        add(source(1 * MIB));
        add(volume("p", "h1", "/w", 40 * MIB, List.of()));
        add(volume("p", "h1", "/w2", 30 * MIB, List.of()));
        CampaignSpec spec = spec(SpacePolicy.TRANSPLANT, null, false);
        CampaignRecovery first = recoverOnlyMerge(spec, 8 * MIB);
        assertThat(first.steps().get(0).volume()).isEqualTo("/w");

        Planner.PlannedJob planned = new Planner.PlannedJob(merge("/v/vm/a_2.avhdx", "/v/vm/a.vhdx"), "h1", "/v", 0);
        CampaignRecovery second = SpaceRecovery.plan(
                "c1",
                spec,
                new SpaceRecovery.Need(planned, "p", "refused", 8 * MIB, MIB),
                all(),
                SpaceRecovery.claims(first),
                Set.of(),
                NOW);
        assertThat(second.steps().get(0).volume()).isEqualTo("/w2");
    }

    @Test
    void theSameRefusalGivesTheSameRecoveryAndJobIds() {
        add(source(1 * MIB));
        add(volume("p", "h2", "/x", 900 * MIB, List.of()));
        CampaignSpec spec = spec(SpacePolicy.TRANSPLANT, null, true);

        assertThat(recoverOnlyMerge(spec, 8 * MIB)).isEqualTo(recoverOnlyMerge(spec, 8 * MIB));
    }

    @Test
    void aMergeOnAVolumeUnderItsReserveIsHeldAndItsRecoveryPlannedUpFront() {
        fleet.computeIfAbsent("p", p -> new ArrayList<>())
                .add(new VolumeInventory(
                        Schema.VERSION,
                        "s",
                        "c1",
                        "p",
                        "h1",
                        "/v",
                        NOW,
                        "tmpfs",
                        GIB,
                        MIB,
                        full,
                        null,
                        null,
                        2 * MIB,
                        "http://h1:8081",
                        null));
        add(volume("p", "h1", "/w", 40 * MIB, List.of()));
        CampaignSpec spec = new CampaignSpec(
                "t",
                List.of("p"),
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                false,
                null,
                SpacePolicy.TRANSPLANT,
                null,
                null);

        Planner.Plan plan = Planner.plan("c1", spec, fleet, NOW);

        assertThat(plan.jobs()).isEmpty();
        assertThat(plan.recoveries()).singleElement().satisfies(r -> {
            assertThat(r.trigger()).isEqualTo("under-reserve");
            assertThat(r.requiredBytes()).isEqualTo(8 * MIB); // a_1 and a_2's sizes: the growth at most
            assertThat(r.steps()).extracting(Step::action).containsExactly("move", "merge");
        });
        // The same spec refusing: the merge is published and the worker's guard decides.
        CampaignSpec refuse = new CampaignSpec(
                "t", List.of("p"), null, null, null, null, null, null, null, null, false, null, null, null, null);
        assertThat(Planner.plan("c1", refuse, fleet, NOW).jobs()).hasSize(1);
    }

    @Test
    void thePlanPreviewForeseesRecoveriesForMergesWhoseGrowthMayNotFit() {
        add(source(5 * MIB));
        add(volume("p", "h2", "/x", 900 * MIB, List.of()));
        CampaignSpec spec = spec(SpacePolicy.TRANSPLANT, null, false);

        Planner.Plan preview = Planner.plan("c1", spec, fleet, NOW, true);

        assertThat(preview.jobs()).hasSize(1);
        assertThat(preview.recoveries()).singleElement().satisfies(r -> assertThat(r.trigger())
                .isEqualTo("may-not-fit"));
        assertThat(Planner.plan("c1", spec, fleet, NOW).recoveries()).isEmpty();
    }

    private static final long GIB = 1L << 30;

    private CampaignRecovery recoverOnlyMerge(CampaignSpec spec, long required) {
        Planner.PlannedJob planned = new Planner.PlannedJob(merge("/v/vm/a_2.avhdx", "/v/vm/a.vhdx"), "h1", "/v", 0);
        return SpaceRecovery.plan(
                "c1",
                spec,
                new SpaceRecovery.Need(planned, "p", "refused", required, MIB),
                all(),
                Map.of(),
                Set.of(),
                NOW);
    }

    private List<VolumeInventory> all() {
        List<VolumeInventory> all = new ArrayList<>();
        fleet.values().forEach(all::addAll);
        return all;
    }

    private void add(VolumeInventory volume) {
        fleet.computeIfAbsent(volume.pool(), p -> new ArrayList<>()).add(volume);
    }

    private static MergeJob merge(String child, String destination) {
        return new MergeJob(
                Schema.VERSION,
                "c1-m-1",
                "c1",
                "p",
                NOW,
                "/v/vm/a.vhdx",
                child,
                destination,
                null,
                null,
                false,
                0,
                null);
    }

    private static VolumeInventory volume(
            String pool, String host, String root, long usable, List<InventoryDisk> disks) {
        return new VolumeInventory(
                Schema.VERSION,
                "scan",
                "c1",
                pool,
                host,
                root,
                NOW,
                "tmpfs",
                GIB,
                usable,
                disks,
                null,
                null,
                0,
                "http://" + host + ":8081",
                null);
    }

    private static CampaignSpec spec(SpacePolicy policy, Object targets, boolean moveBack) {
        TransplantTargets to = targets instanceof TransplantTargets t
                ? t
                : targets instanceof List<?> pools
                        ? new TransplantTargets(
                                pools.stream().map(String::valueOf).toList(), null)
                        : null;
        return new CampaignSpec(
                "t", List.of("p"), null, null, null, null, null, null, null, "0", false, null, policy, to, moveBack);
    }

    private static InventoryDisk root(String path, long mib, String... children) {
        return new InventoryDisk(
                path, "VHDX", "DYNAMIC", GIB, mib * MIB, OLD, "ROOT", null, List.of(children), 1, path, null);
    }

    private static InventoryDisk diff(String path, String parent, int depth, long mib, String... children) {
        return new InventoryDisk(
                path,
                "VHDX",
                "DIFFERENCING",
                GIB,
                mib * MIB,
                OLD,
                "LINKED",
                parent,
                List.of(children),
                depth,
                "/v/vm/a.vhdx",
                null);
    }
}
