package io.chainmerge.disk.vhdx;

import static io.chainmerge.disk.vhdx.VhdxFile.CREATOR;
import static io.chainmerge.disk.vhdx.VhdxFile.CREATOR_AT;
import static io.chainmerge.disk.vhdx.VhdxFile.CREATOR_LENGTH;
import static io.chainmerge.disk.vhdx.VhdxFile.SIGNATURE;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.ParentPaths;
import io.chainmerge.disk.io.DiskChannel;
import io.chainmerge.disk.io.Guids;
import io.chainmerge.disk.io.NewFile;
import io.chainmerge.disk.io.Zeros;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * Makes new VHDX files, fixed, dynamic or differencing, and predicts their size. Each is written under
 * a temporary name and renamed when complete, then opened for writing as a {@link VhdxFile}.
 */
public final class VhdxCreator {

    private VhdxCreator() {}

    /** Creates a fixed or dynamic VHDX; written under a temporary name and renamed when complete. */
    public static VhdxFile create(Path file, DiskSpec spec) throws IOException {
        int blockSize = blockSizeFor(spec);
        checkNewGeometry(file, spec.virtualSize(), blockSize, spec.logicalSectorSize());
        FileParameters parameters = new FileParameters(blockSize, spec.type() == DiskType.FIXED, false);
        UUID diskId = spec.virtualDiskId() != null ? spec.virtualDiskId() : Guids.random();
        MetadataRegion metadata = MetadataRegion.create(
                parameters, spec.virtualSize(), diskId, spec.logicalSectorSize(), spec.physicalSectorSize(), null);
        writeNewFile(file, metadata, spec.type() == DiskType.FIXED);
        return VhdxFile.open(file, Access.WRITE);
    }

    /**
     * Creates a differencing VHDX over {@code parent}: same size, block size and sector sizes, the
     * parent's virtual disk id (IsVirtualDisk items are copied when forking, MS-VHDX 2.6.1.2), and a
     * parent locator with the parent's DataWriteGuid and paths. The parent is not changed.
     */
    public static VhdxFile createDifferencing(Path file, VhdxFile parent) throws IOException {
        return createDifferencing(file, parent, parent.blockSize());
    }

    /**
     * A differencing VHDX with its own block size. Hyper-V makes such chains (2 MiB checkpoints over a
     * 32 MiB parent); chainmerge's own children inherit, and tests use this to build Hyper-V's shape.
     */
    static VhdxFile createDifferencing(Path file, VhdxFile parent, int blockSize) throws IOException {
        checkNewGeometry(file, parent.virtualSize(), blockSize, parent.logicalSectorSize());
        FileParameters parameters = new FileParameters(blockSize, false, true);

        ParentLocator locator = ParentLocator.forParent(parent.identity(), ParentPaths.forParent(file, parent.path()));
        MetadataRegion metadata = MetadataRegion.create(
                parameters,
                parent.virtualSize(),
                parent.virtualDiskId(),
                parent.logicalSectorSize(),
                parent.physicalSectorSize(),
                locator);
        writeNewFile(file, metadata, false);
        return VhdxFile.open(file, Access.WRITE);
    }

    /** The size of a new root file of {@code spec} with {@code allocatedBlocks} blocks written. */
    public static long sizeOfNew(DiskSpec spec, long allocatedBlocks) {
        int blockSize = blockSizeFor(spec);
        BatGeometry geometry = new BatGeometry(spec.virtualSize(), blockSize, spec.logicalSectorSize(), false);
        long blocks = spec.type() == DiskType.FIXED ? geometry.payloadBlocks() : allocatedBlocks;
        return Layout.NEW_BAT_OFFSET + Layout.roundUpToMib(geometry.totalEntries() * 8) + blocks * blockSize;
    }

    private static int blockSizeFor(DiskSpec spec) {
        if (spec.blockSize() != 0) {
            return spec.blockSize();
        }
        return spec.type() == DiskType.FIXED ? Layout.DEFAULT_FIXED_BLOCK_SIZE : Layout.DEFAULT_BLOCK_SIZE;
    }

    private static void checkNewGeometry(Path file, long virtualSize, int blockSize, int logicalSectorSize) {
        if (virtualSize % logicalSectorSize != 0 || virtualSize > Layout.MAX_VIRTUAL_SIZE) {
            throw new IllegalArgumentException(file + ": the virtual size must be a multiple of the "
                    + logicalSectorSize + "-byte sector, at most 64 TiB");
        }
        if (blockSize < Layout.MIN_BLOCK_SIZE
                || blockSize > Layout.MAX_BLOCK_SIZE
                || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException(file + ": the block size must be a power of 2 from 1 MiB to 256 MiB");
        }
    }

    private static void writeNewFile(Path file, MetadataRegion metadata, boolean fixed) throws IOException {
        FileParameters parameters = metadata.fileParameters;
        BatGeometry geometry = new BatGeometry(
                metadata.virtualDiskSize, parameters.blockSize(), metadata.logicalSectorSize, parameters.hasParent());
        long batLength = Layout.roundUpToMib(geometry.totalEntries() * 8);
        long payloadStart = Layout.NEW_BAT_OFFSET + batLength;
        NewFile.create(file, channel -> {
            ByteBuffer identifier = ByteBuffer.allocate(CREATOR_AT + CREATOR_LENGTH);
            identifier.put(SIGNATURE);
            identifier.put(CREATOR.getBytes(StandardCharsets.UTF_16LE));
            channel.writeFully(identifier.clear(), 0);
            HeaderPair.writeNew(
                    channel,
                    new VhdxHeader(
                            0,
                            Guids.random(),
                            Guids.random(),
                            Guids.ZERO,
                            0,
                            1,
                            Layout.NEW_LOG_LENGTH,
                            Layout.NEW_LOG_OFFSET));
            RegionTable regionTable = new RegionTable(List.of(
                    new RegionTable.RegionEntry(RegionTable.BAT, Layout.NEW_BAT_OFFSET, batLength, true),
                    new RegionTable.RegionEntry(
                            RegionTable.METADATA, Layout.NEW_METADATA_OFFSET, Layout.NEW_METADATA_LENGTH, true)));
            channel.writeFully(regionTable.encode(), RegionTable.OFFSET1);
            channel.writeFully(regionTable.encode(), RegionTable.OFFSET2);
            channel.writeFully(
                    ByteBuffer.wrap(metadata.encode(Layout.NEW_METADATA_LENGTH)), Layout.NEW_METADATA_OFFSET);
            long end = payloadStart;
            if (fixed) {
                end = writeFixedBat(channel, geometry, payloadStart);
            }
            channel.writeFully(ByteBuffer.allocate(1), end - 1);
        });
    }

    /** A fixed disk has every payload block allocated, in order, and written with zeros like Hyper-V's. */
    private static long writeFixedBat(DiskChannel channel, BatGeometry geometry, long payloadStart) throws IOException {
        long chunkRatio = geometry.chunkRatio();
        long entries = geometry.totalEntries();
        ByteBuffer piece = ByteBuffer.allocate((int) Layout.MIB).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long pieceStart = 0;
        for (long index = 0; index < entries; index++) {
            if (index * 8 - pieceStart == piece.capacity()) {
                channel.writeFully(piece.clear(), Layout.NEW_BAT_OFFSET + pieceStart);
                piece = ByteBuffer.allocate(piece.capacity()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                pieceStart = index * 8;
            }
            if (index % (chunkRatio + 1) != chunkRatio) {
                long block = index - index / (chunkRatio + 1);
                piece.putLong(
                        (int) (index * 8 - pieceStart),
                        BatEntry.of(BatEntry.PAYLOAD_FULLY_PRESENT, payloadStart + block * geometry.blockSize()));
            }
        }
        channel.writeFully(piece.clear(), Layout.NEW_BAT_OFFSET + pieceStart);
        long end = payloadStart + geometry.payloadBlocks() * geometry.blockSize();
        Zeros.write(channel, payloadStart, end - payloadStart);
        return end;
    }
}
