package io.chainmerge.disk.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import io.chainmerge.disk.InvalidChainException;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Repoint;
import io.chainmerge.disk.chain.RepointReport;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.ChildJvm;
import io.chainmerge.disk.testing.Fingerprint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every guard refuses before any byte changes, with the reason and the figures it judged by. */
class MergeGuardTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private ChainFixture chain(long seed) throws IOException {
        return ChainFixture.withRoot(
                        dir, "base.vhdx", DiskSpec.dynamic(24 * MIB).withBlockSize((int) MIB), seed)
                .write(4)
                .child("base_1.avhdx")
                .write(6);
    }

    private void assertRefusedUnchanged(MergeRequest request, Guard guard) throws IOException {
        Map<Path, String> before = Fingerprint.ofTree(dir);
        assertThatThrownBy(() -> Merge.run(request, MergeProgress.NONE))
                .isInstanceOfSatisfying(GuardRefusal.class, refusal -> assertThat(refusal.guard())
                        .isEqualTo(guard));
        assertThat(Fingerprint.ofTree(dir)).as("files after a refused merge").isEqualTo(before);
    }

    @Test
    void theRequestsPlanCheckSeesThePlanTheMergeExecutesAndItsRefusalChangesNothing() throws IOException {
        ChainFixture chain = chain(7);
        List<MergePlan> seen = new ArrayList<>();
        assertRefusedUnchanged(
                MergeRequest.of(chain.top()).withPlanCheck(plan -> {
                    seen.add(plan);
                    throw new GuardRefusal(Guard.IN_USE, plan.destination(), "outside the caller's roots");
                }),
                Guard.IN_USE);
        assertThat(seen).singleElement().satisfies(plan -> {
            assertThat(plan.sources()).containsExactly(chain.top());
            assertThat(plan.destination()).isEqualTo(chain.root());
        });

        MergeReport report = Merge.run(MergeRequest.of(chain.top()).withPlanCheck(seen::add), MergeProgress.NONE);

        assertThat(seen).hasSize(2);
        assertThat(report.plan()).isSameAs(seen.get(1));
        assertThat(chain.top()).doesNotExist();
    }

    @Test
    void mergeRefusesAnOrphanedChildWhoseParentWasModified() throws IOException {
        ChainFixture chain = chain(1);
        try (VirtualDisk parent = DiskFiles.open(chain.root(), Access.WRITE)) {
            parent.write(0, ByteBuffer.allocate(512)); // a new DataWriteGuid: the child no longer matches
        }
        assertRefusedUnchanged(MergeRequest.of(chain.top()), Guard.ORPHANED);
    }

    @Test
    void mergeRefusesAChildWhoseParentIsMissing() throws IOException {
        ChainFixture chain = chain(2);
        Files.move(chain.root(), dir.resolve("elsewhere.vhdx.bak"));
        assertRefusedUnchanged(MergeRequest.of(chain.top()), Guard.MISSING_PARENT);
    }

    @Test
    void mergeRefusesWhenTheDestinationHasAnotherChildItWouldOrphan() throws IOException {
        ChainFixture chain = chain(3);
        try (VirtualDisk parent = DiskFiles.open(chain.root(), Access.READ)) {
            DiskFiles.createDifferencing(dir.resolve("sibling.avhdx"), parent).close();
        }
        Map<Path, String> before = Fingerprint.ofTree(dir);
        MergePlan plan = Merge.plan(MergeRequest.of(chain.top()));
        assertThat(plan.refusals()).singleElement().satisfies(refusal -> {
            assertThat(refusal.guard()).isEqualTo(Guard.SIBLINGS);
            assertThat(refusal.figures().get("otherChildren").toString()).contains("sibling.avhdx");
        });
        assertThat(Fingerprint.ofTree(dir)).isEqualTo(before);
        assertRefusedUnchanged(MergeRequest.of(chain.top()), Guard.SIBLINGS);
    }

    @Test
    void mergeRefusesWhenADiskItWouldDeleteHasAnotherChild() throws IOException {
        ChainFixture chain = chain(4).child("base_2.avhdx").write(3);
        try (VirtualDisk middle = DiskFiles.open(chain.file(1), Access.READ)) {
            DiskFiles.createDifferencing(dir.resolve("other.avhdx"), middle).close();
        }
        assertRefusedUnchanged(MergeRequest.of(chain.top()).withDestination(chain.root()), Guard.SIBLINGS);
    }

    @Test
    void mergeRefusesWhenADiskFileNearbyCannotBeReadSinceItMayBeAChild() throws IOException {
        ChainFixture chain = chain(14);
        Path broken = dir.resolve("unknown.avhdx");
        Files.write(broken, new byte[4096]);
        MergePlan plan = Merge.plan(MergeRequest.of(chain.top()));
        assertThat(plan.refusals()).singleElement().satisfies(refusal -> {
            assertThat(refusal.guard()).isEqualTo(Guard.SIBLINGS);
            assertThat(refusal.getMessage()).contains("unknown.avhdx");
        });
        assertRefusedUnchanged(MergeRequest.of(chain.top()), Guard.SIBLINGS);

        Path elsewhere = Files.createDirectories(dir.resolve("chain"));
        MergeRequest narrowed = MergeRequest.of(chain.top()).withScanRoots(java.util.List.of(elsewhere));
        assertThat(Merge.plan(narrowed).refusals()).isEmpty(); // the operator says where children can be
    }

    @Test
    void aScanListsFilesAnotherProcessIsMergingWithoutWaitingForItsLock() throws Exception {
        ChainFixture chain = chain(15);
        Process holder = ChildJvm.holdOpen(chain.root());
        try {
            var report = io.chainmerge.disk.scan.VolumeScan.scan(java.util.List.of(dir));
            assertThat(report.problems()).isEmpty();
            assertThat(report.find(chain.root().toRealPath()).children())
                    .containsExactly(chain.top().toRealPath());
        } finally {
            holder.getOutputStream().close();
            holder.waitFor();
        }
    }

    @Test
    void childrenOfTheNewestSourceAreNotSiblingsButRepointed() throws IOException {

        ChainFixture chain = chain(5).child("base_2.avhdx").write(3);
        Path secondChild = dir.resolve("base_2b.avhdx");
        try (VirtualDisk middle = DiskFiles.open(chain.file(1), Access.READ)) {
            DiskFiles.createDifferencing(secondChild, middle).close();
        }
        MergeReport report = Merge.run(MergeRequest.of(chain.file(1)), MergeProgress.NONE);
        assertThat(report.repointedChildren())
                .containsExactlyInAnyOrder(chain.top().toRealPath(), secondChild.toRealPath());
        chain.assertReads(chain.top());
    }

    @Test
    void mergeRefusesWhenTheGrowthDoesNotFitAboveTheReserve() throws IOException {
        ChainFixture chain = chain(6);
        MergeRequest request = MergeRequest.of(chain.top()).withReserve(Reserve.parse("100%"));
        MergePlan plan = Merge.plan(request);
        assertThat(plan.space().requiredBytes()).isPositive();
        assertThat(plan.space().fits()).isFalse();
        assertThat(plan.refusals()).singleElement().satisfies(refusal -> assertThat(refusal.figures())
                .containsEntry("requiredBytes", plan.space().requiredBytes())
                .containsEntry("availableBytes", 0L));
        assertRefusedUnchanged(request, Guard.SPACE);
    }

    @Test
    void aFixedDestinationGrowsByNothingSoItFitsAnyReserve() throws IOException {
        ChainFixture chain = ChainFixture.withRoot(
                        dir, "fixed.vhdx", DiskSpec.dynamic(16 * MIB).withType(DiskType.FIXED), 7)
                .child("fixed_1.avhdx")
                .write(8);
        MergeRequest request = MergeRequest.of(chain.top()).withReserve(Reserve.parse("100%"));
        assertThat(Merge.plan(request).space().requiredBytes()).isZero();
        Merge.run(request, MergeProgress.NONE);
        chain.assertReads(chain.root());
    }

    @Test
    void mergeRefusesFilesAnotherProcessHoldsOpen() throws Exception {
        ChainFixture chain = chain(8);
        Process holder = ChildJvm.holdOpen(chain.root());
        try {
            assertRefusedUnchanged(MergeRequest.of(chain.top()), Guard.IN_USE);
        } finally {
            holder.getOutputStream().close();
            holder.waitFor();
        }
        Merge.run(MergeRequest.of(chain.top()), MergeProgress.NONE); // free again: the merge runs
        chain.assertReads(chain.root());
    }

    @Test
    void mergeRefusesADestinationOutsideTheChain() throws IOException {
        ChainFixture chain = chain(9);
        Path stranger = dir.resolve("stranger.vhdx");
        DiskFiles.create(stranger, DiskSpec.dynamic(24 * MIB)).close();
        Map<Path, String> before = Fingerprint.ofTree(dir);
        assertThatThrownBy(() -> Merge.run(MergeRequest.of(chain.top()).withDestination(stranger), MergeProgress.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not an ancestor");
        assertThat(Fingerprint.ofTree(dir)).isEqualTo(before);
    }

    @Test
    void mergeRefusesARootThatHasNothingToMergeInto() throws IOException {
        ChainFixture chain = chain(10);
        assertThatThrownBy(() -> Merge.run(MergeRequest.of(chain.root()), MergeProgress.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a differencing disk");
    }

    @Test
    void setParentAcceptsTheSameParentMovedElsewhere() throws IOException {
        ChainFixture chain = chain(11);
        Path moved = Files.createDirectories(dir.resolve("moved")).resolve("base.vhdx");
        Files.move(chain.root(), moved);

        RepointReport report = Repoint.setParent(chain.top(), moved);

        assertThat(report.changed()).isTrue();
        assertThat(report.parent()).isEqualTo(moved.toRealPath());
        try (VirtualDisk child = DiskFiles.open(chain.top(), Access.READ)) {
            assertThat(child.parentLink().orElseThrow().paths().get(0).value()).isEqualTo(".\\moved\\base.vhdx");
        }
        chain.assertReads(chain.top());
        assertThat(Repoint.setParent(chain.top(), moved).changed()).isFalse();
    }

    @Test
    void setParentRefusesADifferentDiskAndLeavesTheChildUntouched() throws IOException {
        ChainFixture chain = chain(12);
        Path impostor = dir.resolve("impostor.vhdx");
        DiskFiles.create(impostor, DiskSpec.dynamic(24 * MIB)).close();
        String child = Fingerprint.of(chain.top());

        assertThatThrownBy(() -> Repoint.setParent(chain.top(), impostor))
                .isInstanceOfSatisfying(
                        GuardRefusal.class, r -> assertThat(r.guard()).isEqualTo(Guard.NOT_SAME_PARENT));
        assertThat(Fingerprint.of(chain.top())).isEqualTo(child);
    }

    @Test
    void setParentRefusesAParentThatDescendsFromTheChild() throws IOException {
        ChainFixture chain = chain(13).child("base_2.avhdx");
        String before = Fingerprint.of(chain.file(1));
        assertThatThrownBy(() -> Repoint.setParent(chain.file(1), chain.top()))
                .isInstanceOf(InvalidChainException.class)
                .hasMessageContaining("loop");
        assertThat(Fingerprint.of(chain.file(1))).isEqualTo(before);
    }
}
