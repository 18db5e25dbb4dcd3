package io.chainmerge.disk.vhdx;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.testing.ContentModel;
import io.chainmerge.disk.testing.VhdxSurgery;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What another producer keeps in a VHDX file (an optional region the engine does not know, an optional
 * metadata item it does not know) stays byte for byte through writes that allocate blocks and through a
 * re-point that rewrites the parent locator item (MS-VHDX 2.2.2 and 2.6.1: unknown optional regions and
 * items are to be preserved). docs/vhd.md, "Owning only what the format gives chainmerge".
 */
class VhdxForeignBytesTest {
    private static final int MIB = 1 << 20;
    private static final UUID FOREIGN = UUID.fromString("c0ffee00-1234-4567-89ab-cdef01234567");

    @TempDir
    Path dir;

    @Test
    void anUnknownRegionAndMetadataItemKeepTheirBytesThroughWritesAndARepoint() throws IOException {
        Path base = dir.resolve("base.vhdx");
        DiskFiles.create(base, DiskSpec.dynamic(64L * MIB).withBlockSize(MIB)).close();
        Path child = dir.resolve("base_1.avhdx");
        try (VirtualDisk parent = DiskFiles.open(base, Access.READ)) {
            DiskFiles.createDifferencing(child, parent).close();
        }
        byte[] regionBytes = pattern(MIB, 1);
        byte[] itemBytes = pattern(4096, 2);
        long regionAt;
        try (VhdxSurgery surgery = VhdxSurgery.open(child)) {
            long at = surgery.append(MIB);
            regionAt = (at + MIB - 1) / MIB * MIB;
            surgery.append(regionAt - at + MIB);
            surgery.put(regionAt, regionBytes);
            long start = regionAt;
            surgery.editBothRegionTables((s, table) -> {
                long count = s.u32(table + 8);
                long entry = table + 16 + count * 32;
                s.putGuid(entry, FOREIGN).putU64(entry + 16, start).putU32(entry + 24, MIB);
                s.putU32(entry + 28, 0).putU32(table + 8, count + 1);
            });
            long end = 0;
            for (UUID item : List.of(
                    VhdxSurgery.FILE_PARAMETERS,
                    VhdxSurgery.VIRTUAL_DISK_SIZE,
                    VhdxSurgery.VIRTUAL_DISK_ID,
                    VhdxSurgery.LOGICAL_SECTOR_SIZE,
                    VhdxSurgery.PHYSICAL_SECTOR_SIZE,
                    VhdxSurgery.PARENT_LOCATOR)) {
                end = Math.max(end, surgery.u32(surgery.metadataEntry(item) + 16) + surgery.metadataItemLength(item));
            }
            long itemOffset = (end + 8191) / 4096 * 4096; // a gap after the known items, then the item
            surgery.addMetadataEntry(FOREIGN, itemOffset, itemBytes.length, 0);
            surgery.put(surgery.metadataOffset() + itemOffset, itemBytes);
        }

        ContentModel model = new ContentModel(64L * MIB);
        try (VirtualDisk disk = DiskFiles.open(child, Access.WRITE)) {
            Random random = new Random(5);
            for (long offset : List.of(0L, 5L * MIB + 4096, 40L * MIB, 63L * MIB)) {
                model.writeBoth(disk, offset, ContentModel.randomData(random, 64 * 1024));
            }
        }
        Path moved = Files.createDirectories(dir.resolve("moved")).resolve("base.vhdx");
        Files.move(base, moved);
        try (VirtualDisk parent = DiskFiles.open(moved, Access.READ);
                VirtualDisk disk = DiskFiles.open(child, Access.WRITE)) {
            disk.setParent(parent);
        }

        try (VhdxSurgery surgery = VhdxSurgery.open(child)) {
            assertThat(surgery.regionOffset(FOREIGN)).isEqualTo(regionAt);
            assertThat(surgery.get(regionAt, MIB)).as("the unknown region").isEqualTo(regionBytes);
            // Rewriting the metadata table repacks the items (the table locates each by its GUID); an
            // unknown one keeps its bytes, its length and its flags.
            assertThat(surgery.metadataItemLength(FOREIGN)).isEqualTo(itemBytes.length);
            assertThat(surgery.u32(surgery.metadataEntry(FOREIGN) + 24)).isZero();
            assertThat(surgery.get(surgery.metadataItem(FOREIGN), itemBytes.length))
                    .as("the unknown metadata item")
                    .isEqualTo(itemBytes);
        }
        try (Chain chain = Chain.open(child, Access.READ)) {
            assertThat(chain.root().path()).isEqualTo(moved.toRealPath());
            chain.top().verify();
            model.assertChainEquals(chain.levels());
        }
    }

    @Test
    void bytesPastTheLastStructureOfAnotherProducersFileStayAndBlocksGoAfterThem() throws IOException {
        Path file = dir.resolve("other.vhdx");
        DiskFiles.create(file, DiskSpec.dynamic(64L * MIB).withBlockSize(MIB)).close();
        byte[] trailing = pattern(4096 + 512, 3);
        long trailingAt;
        try (VhdxSurgery surgery = VhdxSurgery.open(file)) {
            // Another application's file (the identifier's creator has no checksum), with its own bytes
            // after the last structure.
            byte[] creator = new byte[512];
            byte[] name = "another tool".getBytes(java.nio.charset.StandardCharsets.UTF_16LE);
            System.arraycopy(name, 0, creator, 0, name.length);
            surgery.put(8, creator);
            trailingAt = surgery.size();
            surgery.put(trailingAt, trailing);
        }
        ContentModel model = new ContentModel(64L * MIB);
        try (VirtualDisk disk = DiskFiles.open(file, Access.WRITE)) {
            model.writeBoth(disk, 3L * MIB, ContentModel.randomData(new Random(6), 2 * MIB));
        }
        try (VhdxSurgery surgery = VhdxSurgery.open(file)) {
            assertThat(surgery.get(trailingAt, trailing.length)).isEqualTo(trailing);
        }
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            disk.verify();
            model.assertChainEquals(List.of(disk));
        }
    }

    private static byte[] pattern(int length, int seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
