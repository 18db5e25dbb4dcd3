package io.chainmerge.disk.vhd;

import static io.chainmerge.disk.vhd.VhdFile.ALL_ONES;
import static io.chainmerge.disk.vhd.VhdFile.CREATOR_APPLICATION;
import static io.chainmerge.disk.vhd.VhdFile.CREATOR_HOST_OS;
import static io.chainmerge.disk.vhd.VhdFile.CREATOR_VERSION;
import static io.chainmerge.disk.vhd.VhdFile.DATA_ALIGNMENT;
import static io.chainmerge.disk.vhd.VhdFile.DEFAULT_BLOCK_SIZE;
import static io.chainmerge.disk.vhd.VhdFile.MAX_NEW_VIRTUAL_SIZE;
import static io.chainmerge.disk.vhd.VhdFile.NEW_HEADER_OFFSET;
import static io.chainmerge.disk.vhd.VhdFile.NEW_TABLE_OFFSET;
import static io.chainmerge.disk.vhd.VhdFile.SECTOR_SIZE;
import static io.chainmerge.disk.vhd.VhdFile.place;
import static io.chainmerge.disk.vhd.VhdFile.roundUpToSector;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.io.Guids;
import io.chainmerge.disk.io.NewFile;
import io.chainmerge.disk.io.Zeros;
import io.chainmerge.disk.vhd.VhdFile.ParentRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Makes new VHD files, fixed, dynamic or differencing, laid out as Windows and qemu lay them out, and
 * predicts their size. Each is written under a temporary name and renamed when complete, then opened
 * for writing as a {@link VhdFile}.
 */
public final class VhdCreator {

    private VhdCreator() {}

    /**
     * The virtual size a new root asked for {@code requested} bytes gets, when its size is the caller's
     * choice: the smallest at or above it that qemu, Windows, blktap and libvhdi all read alike (see
     * {@link DiskGeometry#smallestAgreedSizeAtLeast} and docs/vhd.md).
     */
    public static long agreedSizeAtLeast(long requested) {
        return DiskGeometry.smallestAgreedSizeAtLeast(requested);
    }

    /**
     * Creates a fixed or dynamic VHD of {@code spec}'s size exactly (its Current Size), with the
     * specification's CHS geometry when that addresses exactly this size and the maximum geometry
     * otherwise, so that readers sizing by geometry read Current Size too (see {@link
     * DiskGeometry#forExactSize}); with 512-byte sectors. The block size is 2 MiB
     * unless given: any power of two the engine reads (512 bytes to 256 MiB), though the specification
     * names 512 KiB and 2 MiB as the sizes products were tested with. VHD records no physical sector
     * size. Written under a temporary name and renamed when complete.
     */
    public static VhdFile create(Path file, DiskSpec spec) throws IOException {
        long size = spec.virtualSize();
        if (spec.logicalSectorSize() != SECTOR_SIZE) {
            throw new IllegalArgumentException(file + ": VHD disks have 512-byte sectors only");
        }
        if (size % SECTOR_SIZE != 0 || size > MAX_NEW_VIRTUAL_SIZE) {
            throw new IllegalArgumentException(
                    file + ": the virtual size of a VHD must be a multiple of 512 bytes, at most 2040 GiB");
        }
        int blockSize = blockSizeFor(spec);
        if (blockSize < SECTOR_SIZE
                || blockSize > DynamicDiskHeader.MAX_BLOCK_SIZE
                || Integer.bitCount(blockSize) != 1
                || (size + blockSize - 1) / blockSize > DynamicDiskHeader.MAX_TABLE_ENTRIES) {
            throw new IllegalArgumentException(file
                    + ": the block size of a VHD is a power of two from 512 bytes to 256 MiB, at most 16 Mi blocks"
                    + " a disk (2 MiB by default)");
        }
        UUID uniqueId = spec.virtualDiskId() != null ? spec.virtualDiskId() : Guids.random();
        DiskGeometry geometry = DiskGeometry.forExactSize(size);
        if (spec.type() == DiskType.FIXED) {
            VhdFooter footer = newFooter(VhdFooter.FIXED, ALL_ONES, size, geometry, uniqueId);
            NewFile.create(file, channel -> {
                Zeros.write(channel, 0, size);
                channel.writeFully(footer.encode(), size);
            });
        } else {
            VhdFooter footer = newFooter(VhdFooter.DYNAMIC, NEW_HEADER_OFFSET, size, geometry, uniqueId);
            long entries = (size + blockSize - 1) / blockSize;
            List<ParentLocatorEntry> none = new ArrayList<>();
            while (none.size() < DynamicDiskHeader.LOCATOR_ENTRIES) {
                none.add(ParentLocatorEntry.UNUSED);
            }
            DynamicDiskHeader header = new DynamicDiskHeader(
                    ALL_ONES,
                    NEW_TABLE_OFFSET,
                    DynamicDiskHeader.HEADER_VERSION,
                    entries,
                    blockSize,
                    Guids.ZERO,
                    0,
                    "",
                    none);
            ByteBuffer table = BlockAllocationTable.empty(entries);
            long end = NEW_TABLE_OFFSET + table.capacity();
            NewFile.create(file, channel -> {
                channel.writeFully(footer.encode(), 0);
                channel.writeFully(header.encode(), NEW_HEADER_OFFSET);
                channel.writeFully(table, NEW_TABLE_OFFSET);
                channel.writeFully(footer.encode(), end);
            });
        }
        return VhdFile.open(file, Access.WRITE);
    }

    /**
     * Creates a differencing VHD over {@code parent}: its size (Current Size and geometry), block size,
     * and a parent record Hyper-V and libvhdi follow: the parent's unique id and modification time, its
     * name, and W2ru (relative) and W2ku (absolute) locators in UTF-16LE as Windows writes them. The
     * parent is not changed.
     */
    public static VhdFile createDifferencing(Path file, VhdFile parent) throws IOException {
        ParentRecord record = ParentRecord.of(file, parent);
        long size = parent.virtualSize();
        int blockSize = parent.blockSize();
        long entries = (size + blockSize - 1) / blockSize;
        ByteBuffer table = BlockAllocationTable.empty(entries);
        byte[] relative = record.relative().getBytes(StandardCharsets.UTF_16LE);
        byte[] absolute = record.absolute().getBytes(StandardCharsets.UTF_16LE);
        long relativeAt = NEW_TABLE_OFFSET + table.capacity();
        long absoluteAt = relativeAt + roundUpToSector(relative.length);
        long end = absoluteAt + roundUpToSector(absolute.length);
        List<ParentLocatorEntry> locatorEntries = new ArrayList<>(List.of(
                new ParentLocatorEntry(
                        ParentLocatorEntry.W2RU, roundUpToSector(relative.length), relative.length, relativeAt),
                new ParentLocatorEntry(
                        ParentLocatorEntry.W2KU, roundUpToSector(absolute.length), absolute.length, absoluteAt)));
        while (locatorEntries.size() < DynamicDiskHeader.LOCATOR_ENTRIES) {
            locatorEntries.add(ParentLocatorEntry.UNUSED);
        }
        VhdFooter footer = newFooter(
                VhdFooter.DIFFERENCING, NEW_HEADER_OFFSET, size, parent.footer().diskGeometry(), Guids.random());
        DynamicDiskHeader header = new DynamicDiskHeader(
                ALL_ONES,
                NEW_TABLE_OFFSET,
                DynamicDiskHeader.HEADER_VERSION,
                entries,
                blockSize,
                record.uniqueId(),
                record.timeStamp(),
                record.unicodeName(),
                locatorEntries);
        NewFile.create(file, channel -> {
            channel.writeFully(footer.encode(), 0);
            channel.writeFully(header.encode(), NEW_HEADER_OFFSET);
            channel.writeFully(table, NEW_TABLE_OFFSET);
            channel.writeFully(ByteBuffer.wrap(relative), relativeAt);
            channel.writeFully(ByteBuffer.wrap(absolute), absoluteAt);
            channel.writeFully(footer.encode(), end);
        });
        return VhdFile.open(file, Access.WRITE);
    }

    /**
     * The size of a new root of {@code spec} once {@code allocatedBlocks} of its blocks are written: a
     * fixed disk is its data and the footer; a dynamic one its header and BAT, then the blocks placed as
     * {@link VhdFile}'s allocation places them, then the footer.
     */
    public static long sizeOfNew(DiskSpec spec, long allocatedBlocks) {
        if (spec.type() == DiskType.FIXED) {
            return spec.virtualSize() + VhdFooter.SIZE;
        }
        BlockGeometry geometry = new BlockGeometry(spec.virtualSize(), blockSizeFor(spec));
        long end = NEW_TABLE_OFFSET + BlockAllocationTable.bytesFor(geometry.blocks());
        for (long block = 0; block < allocatedBlocks; block++) {
            end = place(end, geometry.bitmapSize(), DATA_ALIGNMENT) + geometry.blockTotal();
        }
        return end + VhdFooter.SIZE;
    }

    private static int blockSizeFor(DiskSpec spec) {
        return spec.blockSize() == 0 ? DEFAULT_BLOCK_SIZE : spec.blockSize();
    }

    private static VhdFooter newFooter(int diskType, long dataOffset, long size, DiskGeometry geometry, UUID uniqueId) {
        return new VhdFooter(
                VhdFooter.FEATURES_RESERVED,
                VhdFooter.FORMAT_VERSION,
                dataOffset,
                VhdTime.of(Instant.now()),
                CREATOR_APPLICATION,
                CREATOR_VERSION,
                CREATOR_HOST_OS,
                size,
                size,
                geometry,
                diskType,
                uniqueId,
                0);
    }
}
