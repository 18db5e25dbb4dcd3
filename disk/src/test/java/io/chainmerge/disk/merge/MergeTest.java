package io.chainmerge.disk.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.Fingerprint;
import io.chainmerge.disk.testing.Oracles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Merges give the content the chain read, as qemu and libvhdi read the result. */
class MergeTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} blocks")
    @ValueSource(strings = {"1M", "2M", "32M"})
    void mergesAChildIntoItsQemuRoot(String blockSize) throws IOException {
        ChainFixture chain = ChainFixture.withQemuRoot(dir, "base.vhdx", 100 * MIB + 3 * 512, blockSize, 11)
                .write(20)
                .child("base_1.avhdx")
                .write(40);
        Path child = chain.top().toRealPath();

        MergeReport report = Merge.run(MergeRequest.of(chain.top()), MergeProgress.NONE);

        assertThat(report.removedSources()).containsExactly(child);
        assertThat(chain.top()).doesNotExist();
        assertThat(MergeJournal.pathFor(chain.top())).doesNotExist();
        Oracles.qemuCheckClean(chain.root(), "vhdx");
        chain.model().assertRawEquals(Oracles.qemuToRaw(chain.root(), "vhdx", dir.resolve("merged.raw")));
        assertThat(report.destinationGrowthBytes())
                .isEqualTo(report.plan().space().requiredBytes());
        assertThat(Thread.getAllStackTraces().keySet())
                .as("the write-behind flusher ends with its copy")
                .noneMatch(thread -> thread.getName().startsWith("chainmerge-write-behind"));
    }

    @Test
    void mergesSeveralLevelsIntoTheRootInOnePassNewestWinning() throws IOException {

        ChainFixture chain =
                ChainFixture.withQemuRoot(dir, "base.vhdx", 64 * MIB, "1M", 12).write(10);
        for (int level = 1; level <= 3; level++) {
            chain.child("base_" + level + ".avhdx")
                    .write(25)
                    .writeAt(8 * MIB, 4096); // every level writes the same spot
        }
        Path top = chain.top();

        MergeReport report = Merge.run(MergeRequest.of(top).withDestination(chain.root()), MergeProgress.NONE);

        assertThat(report.plan().sources()).hasSize(3);
        assertThat(report.removedSources()).hasSize(3);
        assertThat(chain.file(1)).doesNotExist();
        Oracles.qemuCheckClean(chain.root(), "vhdx");
        chain.model().assertRawEquals(Oracles.qemuToRaw(chain.root(), "vhdx", dir.resolve("merged.raw")));
    }

    @Test
    void mergingTheMiddleOfAChainRepointsTheGrandchildSoLibvhdiStillFollowsIt() throws IOException {
        Oracles.requireLibvhdi();
        ChainFixture chain = ChainFixture.withQemuRoot(dir, "base.vhdx", 48 * MIB, "2M", 13)
                .write(8)
                .child("base_1.avhdx")
                .write(15)
                .child("base_2.avhdx")
                .write(15)
                .child("base_3.avhdx")
                .write(15);
        Path grandchild = chain.top();
        Path middle = chain.file(2);
        Path destination = chain.file(1);

        MergeReport report = Merge.run(MergeRequest.of(middle), MergeProgress.NONE);

        assertThat(report.repointedChildren()).containsExactly(grandchild.toRealPath());
        assertThat(middle).doesNotExist();
        try (VirtualDisk child = DiskFiles.open(grandchild, Access.READ);
                VirtualDisk parent = DiskFiles.open(destination, Access.READ)) {
            assertThat(child.parentLink().orElseThrow().recordedIdentity()).isEqualTo(parent.identity());
            assertThat(child.parentLink().orElseThrow().acceptedIdentities()).hasSize(1);
        }
        // libvhdi refuses set_parent unless parent_linkage equals the parent's DataWriteGuid.
        chain.model()
                .assertRawEquals(Oracles.vhdiToRaw(dir.resolve("chain.raw"), grandchild, destination, chain.root()));
        chain.assertReads(grandchild);
    }

    @Test
    void mergingIntoADifferencingAncestorKeepsItsOwnParent() throws IOException {
        ChainFixture chain = ChainFixture.withRoot(
                        dir, "base.vhdx", DiskSpec.dynamic(40 * MIB).withBlockSize((int) MIB), 14)
                .write(8)
                .child("c1.avhdx")
                .write(10)
                .child("c2.avhdx")
                .write(10)
                .child("c3.avhdx")
                .write(10);

        Merge.run(MergeRequest.of(chain.top()).withDestination(chain.file(1)), MergeProgress.NONE);

        assertThat(chain.file(2)).doesNotExist();
        assertThat(chain.file(3)).doesNotExist();
        chain.assertReads(chain.file(1));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"DYNAMIC", "FIXED"})
    void flattensIntoANewDiskLeavingEverySourceAsItWas(DiskType type) throws IOException {
        ChainFixture chain = ChainFixture.withQemuRoot(dir, "base.vhdx", 40 * MIB, "1M", 15)
                .write(12)
                .child("base_1.avhdx")
                .write(12)
                .child("base_2.avhdx")
                .write(12);
        Map<Path, String> before = Fingerprint.ofTree(dir);
        Path flat = dir.resolve("flat.vhdx");

        MergeReport report = Merge.run(MergeRequest.of(chain.top()).withIntoNew(flat, type), MergeProgress.NONE);

        assertThat(Fingerprint.ofTree(dir)).containsAllEntriesOf(before);
        assertThat(report.removedSources()).isEmpty();
        try (VirtualDisk disk = DiskFiles.open(flat, Access.READ)) {
            assertThat(disk.type()).isEqualTo(type);
            assertThat(disk.parentLink()).isEmpty();
        }
        assertThat(Files.size(flat)).isLessThanOrEqualTo(report.plan().space().requiredBytes());
        Oracles.qemuCheckClean(flat, "vhdx");
        chain.model().assertRawEquals(Oracles.qemuToRaw(flat, "vhdx", dir.resolve("flat.raw")));
    }

    @Test
    void zeroedRangesOfTheChildReadAsZerosInTheParentAfterTheMerge() throws IOException {
        ChainFixture chain = ChainFixture.withQemuRoot(dir, "base.vhdx", 32 * MIB, "1M", 16)
                .writeAt(0, (int) (8 * MIB))
                .child("base_1.avhdx")
                .zero(MIB, MIB) // a whole block: the ZERO state
                .zero(3 * MIB + 4096, 8192) // part of a block: zeros as data
                .write(5);

        Merge.run(MergeRequest.of(chain.top()), MergeProgress.NONE);

        Oracles.qemuCheckClean(chain.root(), "vhdx");
        chain.model().assertRawEquals(Oracles.qemuToRaw(chain.root(), "vhdx", dir.resolve("merged.raw")));
    }

    @Test
    void chainsWith4096ByteSectorsMergeAndReadTheSameInLibvhdi() throws IOException {
        Oracles.requireLibvhdi();
        DiskSpec spec =
                DiskSpec.dynamic(64 * MIB).withBlockSize((int) (2 * MIB)).withLogicalSectorSize(4096);
        ChainFixture chain = ChainFixture.withRoot(dir, "base.vhdx", spec, 17)
                .write(10)
                .child("base_1.avhdx")
                .write(20)
                .child("base_2.avhdx")
                .write(20);
        chain.model()
                .assertRawEquals(
                        Oracles.vhdiToRaw(dir.resolve("before.raw"), chain.top(), chain.file(1), chain.root()));

        Merge.run(MergeRequest.of(chain.top()).withDestination(chain.root()), MergeProgress.NONE);

        chain.model().assertRawEquals(Oracles.vhdiToRaw(dir.resolve("after.raw"), chain.root()));
    }

    @ParameterizedTest(name = "into a {0} destination")
    @CsvSource({"DYNAMIC, 1", "DYNAMIC, 32", "FIXED, 2", "DIFFERENCING, 1", "DIFFERENCING, 8"})
    void theSpaceEstimateIsTheDestinationsExactGrowth(DiskType destinationType, int blockMiB) throws IOException {
        DiskSpec spec = DiskSpec.dynamic(80 * MIB).withBlockSize((int) (blockMiB * MIB));
        ChainFixture chain = ChainFixture.withRoot(
                        dir, "base.vhdx", destinationType == DiskType.FIXED ? spec.withType(DiskType.FIXED) : spec, 18)
                .write(6);
        if (destinationType == DiskType.DIFFERENCING) {
            chain.child("mid.avhdx").write(6);
        }
        chain.child("top.avhdx").write(30).zero(40 * MIB, 2 * MIB);
        Path destination = chain.file(chain.files().size() - 2);
        long sizeBefore = Files.size(destination);

        MergePlan plan = Merge.plan(MergeRequest.of(chain.top()));
        MergeReport report = Merge.run(MergeRequest.of(chain.top()), MergeProgress.NONE);

        long growth = Files.size(destination) - sizeBefore;
        assertThat(plan.space().exact()).isTrue();
        assertThat(plan.space().requiredBytes()).isEqualTo(growth).isEqualTo(report.destinationGrowthBytes());
        if (destinationType == DiskType.FIXED) {
            assertThat(growth).isZero();
        } else if (blockMiB == 1) {
            assertThat(growth).isPositive(); // with small blocks the child's writes surely reach new ones
        }
        chain.assertReads(destination);
    }

    @Test
    void aDryRunChangesNothing() throws IOException {
        ChainFixture chain = ChainFixture.withRoot(
                        dir, "base.vhdx", DiskSpec.dynamic(16 * MIB).withBlockSize((int) MIB), 19)
                .write(4)
                .child("base_1.avhdx")
                .write(4);
        Map<Path, String> before = Fingerprint.ofTree(dir);

        MergeReport report = Merge.run(MergeRequest.of(chain.top()).withDryRun(true), MergeProgress.NONE);

        assertThat(report.dryRun()).isTrue();
        assertThat(report.plan().payloadBytes()).isPositive();
        assertThat(Fingerprint.ofTree(dir)).isEqualTo(before);
    }

    @Test
    void progressReachesTheTotal() throws IOException {
        ChainFixture chain = ChainFixture.withRoot(
                        dir, "base.vhdx", DiskSpec.dynamic(200 * MIB).withBlockSize((int) MIB), 20)
                .child("base_1.avhdx")
                .write(60);
        long[] last = {-1, -1};
        List<long[]> updates = new java.util.ArrayList<>();

        Merge.run(MergeRequest.of(chain.top()), (done, total) -> {
            updates.add(new long[] {done, total});
            last[0] = done;
            last[1] = total;
        });

        assertThat(updates).hasSizeGreaterThan(1);
        assertThat(last[0]).isEqualTo(last[1]).isPositive();
    }

    @Test
    void progressIsReportedWithinAWindowNotOnlyAfterIt() throws IOException {
        // One 32 MiB block of data: a single piece inside the first 64 MiB window.
        ChainFixture chain = ChainFixture.withRoot(
                        dir, "base.vhdx", DiskSpec.dynamic(64 * MIB).withBlockSize((int) (32 * MIB)), 23)
                .child("base_1.avhdx")
                .writeAt(0, (int) (32 * MIB));
        List<Long> updates = new java.util.ArrayList<>();

        Merge.run(MergeRequest.of(chain.top()), (done, total) -> updates.add(done));

        assertThat(updates).hasSizeGreaterThanOrEqualTo((int) (32 * MIB / WindowCopy.CHUNK));
        assertThat(updates).isSorted();
    }

    @Test
    void aStopInTheMiddleOfAWindowLeavesAChainThatReadsTheSameAndTheSameMergeFinishesIt() throws IOException {
        ChainFixture chain = ChainFixture.withRoot(
                        dir, "base.vhdx", DiskSpec.dynamic(64 * MIB).withBlockSize((int) (32 * MIB)), 29)
                .write(6)
                .child("base_1.avhdx")
                .writeAt(MIB, (int) (40 * MIB));
        MergeProgress stopAfterFirstChunk = new MergeProgress() {
            private boolean started;

            @Override
            public void update(long done, long total) {
                started = true;
            }

            @Override
            public boolean cancelled() {
                return started;
            }
        };

        assertThatThrownBy(() -> Merge.run(MergeRequest.of(chain.top()), stopAfterFirstChunk))
                .isInstanceOf(java.io.InterruptedIOException.class)
                .hasMessageContaining("run the same merge again");
        chain.assertReads(chain.top());
        assertThat(MergeJournal.pathFor(chain.top())).exists();

        Merge.run(MergeRequest.of(chain.top()), MergeProgress.NONE);
        assertThat(chain.top()).doesNotExist();
        chain.assertReads(chain.root());
        Oracles.qemuCheckClean(chain.root(), "vhdx");
    }
}
