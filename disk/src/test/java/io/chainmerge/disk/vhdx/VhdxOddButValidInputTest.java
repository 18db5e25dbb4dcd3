package io.chainmerge.disk.vhdx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.Extent;
import io.chainmerge.disk.UnsupportedDiskException;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.testing.ChildJvm;
import io.chainmerge.disk.testing.ContentModel;
import io.chainmerge.disk.testing.Fingerprint;
import io.chainmerge.disk.testing.VhdxSurgery;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files the specification allows but that the engine's own writer never makes: each reads as the spec
 * says, and the engine changes it only where it can do so safely.
 */
class VhdxOddButValidInputTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private Path dynamic() throws IOException {
        Path file = dir.resolve("disk.vhdx");
        try (VirtualDisk disk = DiskFiles.create(file, DiskSpec.dynamic(8 * MIB).withBlockSize((int) MIB))) {
            disk.write(0, ByteBuffer.wrap(ContentModel.randomData(new Random(1), 8192)));
        }
        return file;
    }

    @Test
    void aHeaderSequenceNumberAtItsEndReadsButRefusesAnyChange() throws IOException {
        Path file = dynamic();
        try (VhdxSurgery surgery = VhdxSurgery.open(file)) {
            surgery.setBothHeadersU64(8, -2L); // 2^64 - 2: the next update would wrap to 0
        }
        String before = Fingerprint.of(file);
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            disk.verify();
        }
        try (VirtualDisk disk = DiskFiles.open(file, Access.WRITE)) {
            assertThatThrownBy(() -> disk.write(0, ByteBuffer.allocate(512)))
                    .isInstanceOf(UnsupportedDiskException.class)
                    .hasMessageContaining("cannot grow");
        }
        assertThat(Fingerprint.of(file)).isEqualTo(before);
    }

    /**
     * MS-VHDX 2.5.1.1 lets UNDEFINED and UNMAPPED blocks keep their space. One whose space lies past
     * the end of the file keeps none, and must not make the next allocation land out there.
     */
    @Test
    void anUnmappedBlockPointingPastTheEndDoesNotPushAllocationsThere() throws IOException {
        Path file = dynamic();
        try (VhdxSurgery surgery = VhdxSurgery.open(file)) {
            surgery.setBatEntry(3, VhdxSurgery.batEntry(3, 1L << 40)); // UNMAPPED at 1 TiB
            surgery.setBatEntry(4, VhdxSurgery.batEntry(1, 1L << 41)); // UNDEFINED at 2 TiB
        }
        long size = Files.size(file);
        try (VirtualDisk disk = DiskFiles.open(file, Access.WRITE)) {
            disk.verify();
            List<Extent> extents = new ArrayList<>();
            disk.extents(3 * MIB, 2 * MIB, extents);
            assertThat(extents).containsExactly(Extent.zero(3 * MIB, 2 * MIB));
            disk.write(6 * MIB, ByteBuffer.allocate(512));
        }
        assertThat(Files.size(file)).as("the file after one new block").isEqualTo(size + MIB);
    }

    /**
     * A log may zero ranges (MS-VHDX 2.3.1.2). A read-only open keeps them as ranges in memory, a
     * writable one writes them; both must read the same. The engine's writer logs no zero descriptor,
     * so one is added to a pending log by hand: it zeroes the sector bitmap page of the child's first
     * chunk, after the entry's data descriptors, so the partially present blocks read from the parent.
     */
    @Test
    void aLogThatZeroesRangesReadsTheSameReplayedInMemoryAsInTheFile() throws Exception {
        Path file = pendingLogChild();
        String withoutZeroing = digestOf(file);
        try (VhdxSurgery surgery = VhdxSurgery.open(file)) {
            long entry = surgery.logEntries().get(surgery.logEntries().size() - 1);
            long count = surgery.u32(entry + 24);
            assertThat(count)
                    .as("descriptors that still fit the entry's first sector")
                    .isLessThan(126);
            long bitmap = (surgery.batEntry(4096) >>> 20) * MIB;
            long descriptor = entry + 64 + count * 32;
            surgery.putAscii(descriptor, "zero")
                    .putU32(descriptor + 4, 0)
                    .putU64(descriptor + 8, 8192)
                    .putU64(descriptor + 16, bitmap)
                    .putU64(descriptor + 24, surgery.u64(entry + 16));
            surgery.putU32(entry + 24, count + 1).fixLogEntry(entry);
        }
        String inMemory = digestOf(file);
        assertThat(inMemory).as("the zeroed bitmap makes a difference").isNotEqualTo(withoutZeroing);
        try (VirtualDisk disk = DiskFiles.open(file, Access.WRITE)) {
            disk.verify(); // the log is now in the file
        }
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            assertThat(disk.details()).containsEntry("logReplayedInMemory", false);
        }
        assertThat(digestOf(file)).isEqualTo(inMemory);
    }

    /**
     * A child whose metadata region is full (here: an unknown optional item takes every byte after
     * the known ones, which the spec allows) cannot record its parent's next identity, which a merge
     * asks of it first. That is refused with a typed error before any byte is written.
     */
    @Test
    void aChildWithAFullMetadataRegionRefusesANewParentIdentityUntouched() throws IOException {
        Path base = dynamic();
        Path child = dir.resolve("disk_1.avhdx");
        try (VirtualDisk parent = DiskFiles.open(base, Access.READ)) {
            DiskFiles.createDifferencing(child, parent).close();
        }
        try (VhdxSurgery surgery = VhdxSurgery.open(child)) {
            long end = 0; // where the items the engine packed from 64 KiB end
            for (java.util.UUID item : List.of(
                    VhdxSurgery.FILE_PARAMETERS,
                    VhdxSurgery.VIRTUAL_DISK_SIZE,
                    VhdxSurgery.VIRTUAL_DISK_ID,
                    VhdxSurgery.LOGICAL_SECTOR_SIZE,
                    VhdxSurgery.PHYSICAL_SECTOR_SIZE,
                    VhdxSurgery.PARENT_LOCATOR)) {
                end = Math.max(end, surgery.u32(surgery.metadataEntry(item) + 16) + surgery.metadataItemLength(item));
            }
            long region = surgery.regionLength(VhdxSurgery.METADATA);
            surgery.addMetadataEntry(
                    java.util.UUID.fromString("c0ffee00-1234-4567-89ab-cdef01234567"), end, region - end, 0);
        }
        String before = Fingerprint.of(child);
        try (VirtualDisk disk = DiskFiles.open(child, Access.READ)) {
            disk.verify(); // a valid file
        }
        try (VirtualDisk disk = DiskFiles.open(child, Access.WRITE)) {
            assertThatThrownBy(() -> disk.acceptParentIdentity(java.util.UUID.randomUUID()))
                    .isInstanceOf(UnsupportedDiskException.class)
                    .hasMessageContaining("metadata region");
        }
        assertThat(Fingerprint.of(child)).isEqualTo(before);
    }

    private Path pendingLogChild() throws Exception {
        Path base = dynamic();
        Path child = dir.resolve("disk_1.avhdx");
        try (VirtualDisk parent = DiskFiles.open(base, Access.READ);
                VirtualDisk disk = DiskFiles.createDifferencing(child, parent)) {
            disk.write(512, ByteBuffer.wrap(ContentModel.randomData(new Random(2), 4096)));
        }
        Path data = dir.resolve("data.bin");
        Files.write(data, ContentModel.randomData(new Random(3), 8192));
        ChildJvm.Outcome crashed = ChildJvm.run(
                "vhdx.commit.logged", "write", child.toString(), String.valueOf(2 * MIB + 1024), data.toString());
        assertThat(crashed.crashedAtPoint()).as(crashed.output()).isTrue();
        return child;
    }

    /** The extents the file defines and their bytes, read through a read-only open. */
    private static String digestOf(Path file) throws IOException {
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            StringBuilder out = new StringBuilder();
            List<Extent> extents = new ArrayList<>();
            disk.extents(0, disk.virtualSize(), extents);
            for (Extent extent : extents) {
                out.append(extent).append('\n');
                if (!extent.isZero()) {
                    ByteBuffer bytes = ByteBuffer.allocate((int) extent.length());
                    disk.readStored(extent.fileOffset(), bytes);
                    out.append(java.util.Arrays.hashCode(bytes.array())).append('\n');
                }
            }
            return out.toString();
        }
    }
}
