package io.chainmerge.disk.vhd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskFormat;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.InvalidChainException;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.merge.Merge;
import io.chainmerge.disk.merge.MergeJournal;
import io.chainmerge.disk.merge.MergePlan;
import io.chainmerge.disk.merge.MergeProgress;
import io.chainmerge.disk.merge.MergeReport;
import io.chainmerge.disk.merge.MergeRequest;
import io.chainmerge.disk.scan.LinkStatus;
import io.chainmerge.disk.scan.ScanReport;
import io.chainmerge.disk.scan.ScannedDisk;
import io.chainmerge.disk.scan.VolumeScan;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.Fingerprint;
import io.chainmerge.disk.testing.Oracles;
import io.chainmerge.disk.testing.VhdOracles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * VHD chains through the merge engine, checked by qemu on the merged root. That check also covers
 * the sector-granular writes libvhdi cannot read back: the chain is read through the engine to build
 * the merged root, and qemu, which reads roots correctly, must find the model's content in it.
 */
class VhdMergeTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "qemu {0} root, force_size={1}")
    @CsvSource({"dynamic, false", "dynamic, true", "fixed, false"})
    void mergesAChildIntoItsQemuRootKeepingTheRootsIdentity(String subformat, boolean forceSize) throws IOException {
        ChainFixture chain = ChainFixture.withQemuVhdRoot(
                        dir, "base.vhd", subformat, 100 * MIB + 3 * 512, forceSize, 21)
                .write(20)
                .child("base_1.avhd")
                .write(40);
        Path child = chain.top().toRealPath();
        UUID rootIdentity = identity(chain.root());

        MergeReport report = Merge.run(MergeRequest.of(chain.top()), MergeProgress.NONE);

        assertThat(report.removedSources()).containsExactly(child);
        assertThat(MergeJournal.pathFor(chain.top())).doesNotExist();
        assertThat(report.destinationIdentity()).isEqualTo(rootIdentity).isEqualTo(identity(chain.root()));
        assertThat(report.destinationGrowthBytes())
                .isEqualTo(report.plan().space().requiredBytes());
        chain.model().assertRawEquals(VhdOracles.qemuToRaw(chain.root(), dir.resolve("merged.raw")));
        verify(chain.root());
    }

    @Test
    void mergesSeveralLevelsIntoTheRootInOnePassNewestWinning() throws IOException {
        ChainFixture chain = ChainFixture.withRoot(dir, "base.vhd", DiskSpec.dynamic(64 * MIB), 22)
                .write(10);
        for (int level = 1; level <= 3; level++) {
            chain.child("base_" + level + ".avhd").write(25).writeAt(8 * MIB + 512, 4096);
        }

        MergeReport report = Merge.run(MergeRequest.of(chain.top()).withDestination(chain.root()), MergeProgress.NONE);

        assertThat(report.plan().sources()).hasSize(3);
        assertThat(report.removedSources()).hasSize(3);
        assertThat(chain.file(1)).doesNotExist();
        chain.model().assertRawEquals(VhdOracles.qemuToRaw(chain.root(), dir.resolve("merged.raw")));
        verify(chain.root());
    }

    @Test
    void mergingTheMiddleOfAChainRepointsTheGrandchildSoLibvhdiStillFollowsIt() throws IOException {
        Oracles.requireLibvhdi();
        // Writes on whole bitmap bytes (8 sectors): libvhdi misreads clear bits that follow set ones.
        ChainFixture chain = ChainFixture.withRoot(dir, "base.vhd", DiskSpec.dynamic(48 * MIB), 23);
        aligned(chain, 1);
        for (int level = 1; level <= 3; level++) {
            aligned(chain.child("base_" + level + ".avhd"), level + 1);
        }
        Path grandchild = chain.top();
        Path middle = chain.file(2);
        Path destination = chain.file(1);

        MergeReport report = Merge.run(MergeRequest.of(middle), MergeProgress.NONE);

        assertThat(report.repointedChildren()).containsExactly(grandchild.toRealPath());
        assertThat(middle).doesNotExist();
        try (VirtualDisk child = DiskFiles.open(grandchild, Access.READ);
                VirtualDisk parent = DiskFiles.open(destination, Access.READ)) {
            assertThat(child.parentLink().orElseThrow().recordedIdentity()).isEqualTo(parent.identity());
            assertThat(child.details())
                    .containsEntry(
                            "parentTimeStamp",
                            Instant.ofEpochSecond(Files.getLastModifiedTime(destination)
                                            .toInstant()
                                            .getEpochSecond())
                                    .toString());
        }
        chain.model()
                .assertRawEquals(Oracles.vhdiToRaw(dir.resolve("chain.raw"), grandchild, destination, chain.root()));
        chain.assertReads(grandchild);
    }

    @Test
    void mergingIntoADifferencingAncestorKeepsItsOwnParent() throws IOException {
        ChainFixture chain = ChainFixture.withRoot(dir, "base.vhd", DiskSpec.dynamic(40 * MIB), 24)
                .write(8)
                .child("c1.avhd")
                .write(10)
                .child("c2.avhd")
                .write(10)
                .child("c3.avhd")
                .write(10);

        Merge.run(MergeRequest.of(chain.top()).withDestination(chain.file(1)), MergeProgress.NONE);

        assertThat(chain.file(2)).doesNotExist();
        assertThat(chain.file(3)).doesNotExist();
        chain.assertReads(chain.file(1));
        verify(chain.file(1));
        // And the last step into the root gives qemu the same content.
        Merge.run(MergeRequest.of(chain.file(1)), MergeProgress.NONE);
        chain.model().assertRawEquals(VhdOracles.qemuToRaw(chain.root(), dir.resolve("merged.raw")));
    }

    @Test
    void zerosWrittenInTheChildReadAsZerosInTheParentAfterTheMerge() throws IOException {
        ChainFixture chain = ChainFixture.withRoot(dir, "base.vhd", DiskSpec.dynamic(32 * MIB), 25)
                .writeAt(0, (int) (8 * MIB))
                .child("base_1.avhd")
                .zero(2 * MIB, 2 * MIB) // a whole block: VHD has no zero state, the child stores zeros
                .zero(5 * MIB + 1536, 2560) // part of a block
                .write(5);

        Merge.run(MergeRequest.of(chain.top()), MergeProgress.NONE);

        chain.model().assertRawEquals(VhdOracles.qemuToRaw(chain.root(), dir.resolve("merged.raw")));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"DYNAMIC", "FIXED"})
    void flattensIntoANewVhdLeavingEverySourceAsItWas(DiskType type) throws IOException {
        Oracles.requireLibvhdi();
        ChainFixture chain = ChainFixture.withQemuVhdRoot(dir, "base.vhd", "dynamic", 40 * MIB, false, 26)
                .write(12)
                .child("base_1.avhd")
                .write(12)
                .child("base_2.avhd")
                .write(12);
        Map<Path, String> before = Fingerprint.ofTree(dir);
        Path flat = dir.resolve("flat.vhd");

        MergeReport report = Merge.run(MergeRequest.of(chain.top()).withIntoNew(flat, type), MergeProgress.NONE);

        assertThat(Fingerprint.ofTree(dir)).containsAllEntriesOf(before);
        assertThat(report.removedSources()).isEmpty();
        try (VirtualDisk disk = DiskFiles.open(flat, Access.READ)) {
            assertThat(disk.type()).isEqualTo(type);
            assertThat(disk.parentLink()).isEmpty();
            assertThat(disk.virtualSize()).isEqualTo(chain.model().virtualSize());
            disk.verify();
        }
        if (type == DiskType.FIXED) {
            assertThat(Files.size(flat)).isEqualTo(report.plan().space().requiredBytes());
        } else {
            assertThat(Files.size(flat))
                    .isLessThanOrEqualTo(report.plan().space().requiredBytes());
        }
        chain.model().assertRawEquals(VhdOracles.qemuToRaw(flat, dir.resolve("qemu.raw")));
        chain.model().assertRawEquals(Oracles.vhdiToRaw(dir.resolve("vhdi.raw"), flat));
    }

    @ParameterizedTest(name = "into a {0} destination, {1}-byte blocks")
    @CsvSource({"DYNAMIC, 2097152", "DYNAMIC, 524288", "FIXED, 0", "DIFFERENCING, 2097152"})
    void theSpaceEstimateIsTheDestinationsExactGrowth(DiskType destinationType, int blockSize) throws IOException {
        DiskSpec spec = DiskSpec.dynamic(80 * MIB).withBlockSize(blockSize);
        ChainFixture chain = ChainFixture.withRoot(
                        dir, "base.vhd", destinationType == DiskType.FIXED ? spec.withType(DiskType.FIXED) : spec, 27)
                .write(6);
        if (destinationType == DiskType.DIFFERENCING) {
            chain.child("mid.avhd").write(6);
        }
        chain.child("top.avhd").write(30).zero(40 * MIB, 2 * MIB);
        Path destination = chain.file(chain.files().size() - 2);
        long sizeBefore = Files.size(destination);

        MergePlan plan = Merge.plan(MergeRequest.of(chain.top()));
        MergeReport report = Merge.run(MergeRequest.of(chain.top()), MergeProgress.NONE);

        long growth = Files.size(destination) - sizeBefore;
        assertThat(plan.space().exact()).isTrue();
        assertThat(plan.space().requiredBytes()).isEqualTo(growth).isEqualTo(report.destinationGrowthBytes());
        if (destinationType == DiskType.FIXED) {
            assertThat(growth).isZero();
        } else {
            assertThat(growth).isPositive();
        }
        chain.assertReads(destination);
    }

    @Test
    void aVhdParentWithAnotherChildIsNotMergedInto() throws IOException {
        ChainFixture chain = ChainFixture.withRoot(dir, "base.vhd", DiskSpec.dynamic(16 * MIB), 28)
                .write(4)
                .child("base_1.avhd")
                .write(4);
        try (VirtualDisk root = DiskFiles.open(chain.root(), Access.READ)) {
            DiskFiles.createDifferencing(dir.resolve("sibling.avhd"), root).close();
        }
        Map<Path, String> before = Fingerprint.ofTree(dir);

        assertThatThrownBy(() -> Merge.run(MergeRequest.of(chain.top()), MergeProgress.NONE))
                .isInstanceOfSatisfying(
                        GuardRefusal.class, e -> assertThat(e.guard()).isEqualTo(GuardRefusal.Guard.SIBLINGS));
        assertThat(Fingerprint.ofTree(dir)).isEqualTo(before);
    }

    @Test
    void scanListsVhdAndVhdxTogetherAndReportsAChildOfTheOtherFormatInvalid() throws IOException {
        ChainFixture vhd = ChainFixture.withRoot(dir, "base.vhd", DiskSpec.dynamic(16 * MIB), 29)
                .write(3)
                .child("base_1.avhd")
                .write(3);
        ChainFixture vhdx = ChainFixture.withRoot(dir, "other.vhdx", DiskSpec.dynamic(16 * MIB), 30)
                .child("other_1.avhdx");
        // A VHD child whose parent file is now a VHDX, and a VHDX child whose parent file is now a VHD.
        Path vhdChild = childOverOtherFormat("mixed.vhd", "mixed_1.avhd", "mixed-impostor.vhdx");
        Path vhdxChild = childOverOtherFormat("reverse.vhdx", "reverse_1.avhdx", "reverse-impostor.vhd");

        ScanReport scan = VolumeScan.scan(List.of(dir));

        assertThat(scan.disks()).extracting(ScannedDisk::format).contains(DiskFormat.VHD, DiskFormat.VHDX);
        assertThat(scan.find(vhd.top().toRealPath()).link()).isEqualTo(LinkStatus.LINKED);
        assertThat(scan.find(vhd.root().toRealPath()).children())
                .containsExactly(vhd.top().toRealPath());
        assertThat(scan.find(vhdx.top().toRealPath()).link()).isEqualTo(LinkStatus.LINKED);
        for (Path mixed : List.of(vhdChild, vhdxChild)) {
            ScannedDisk disk = scan.find(mixed.toRealPath());
            assertThat(disk.link()).as("%s", mixed).isEqualTo(LinkStatus.INVALID_PARENT);
            assertThat(disk.linkProblem()).contains("child cannot have the");
            Map<Path, String> before = Fingerprint.ofTree(dir);
            assertThatThrownBy(() -> Merge.run(MergeRequest.of(mixed), MergeProgress.NONE))
                    .isInstanceOf(InvalidChainException.class);
            assertThat(Fingerprint.ofTree(dir)).isEqualTo(before);
        }
    }

    /** A root and child of one format, then the root's file replaced by a disk of the other format. */
    private Path childOverOtherFormat(String root, String child, String impostor) throws IOException {
        ChainFixture chain = ChainFixture.withRoot(dir, root, DiskSpec.dynamic(8 * MIB), 31)
                .child(child)
                .write(2);
        DiskFiles.create(dir.resolve(impostor), DiskSpec.dynamic(8 * MIB)).close();
        Files.move(dir.resolve(impostor), chain.root(), StandardCopyOption.REPLACE_EXISTING);
        return chain.top();
    }

    /** Writes four runs on whole 4 KiB units into the top of {@code chain}. */
    private static void aligned(ChainFixture chain, long seed) throws IOException {
        Random random = new Random(seed);
        long units = chain.model().virtualSize() / 4096;
        for (int i = 0; i < 4; i++) {
            int length = (1 + random.nextInt(600)) * 4096;
            long first = (long) (random.nextDouble() * (units - length / 4096));
            chain.writeAt(first * 4096, length);
        }
    }

    private static UUID identity(Path file) throws IOException {
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            return disk.identity();
        }
    }

    private static void verify(Path file) throws IOException {
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            disk.verify();
        }
    }
}
