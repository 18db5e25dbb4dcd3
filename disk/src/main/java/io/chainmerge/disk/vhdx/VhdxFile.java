package io.chainmerge.disk.vhdx;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.DiskFormat;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.Extent;
import io.chainmerge.disk.Extents;
import io.chainmerge.disk.InvalidChainException;
import io.chainmerge.disk.ParentLink;
import io.chainmerge.disk.ParentPath;
import io.chainmerge.disk.ParentPaths;
import io.chainmerge.disk.SpaceEstimator;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.io.Directories;
import io.chainmerge.disk.io.DiskChannel;
import io.chainmerge.disk.io.Guids;
import io.chainmerge.disk.io.Zeros;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * A VHDX file (MS-VHDX). Opening checks the file type identifier, both headers, the region table, the
 * metadata and the BAT's size, and replays a pending log first (in memory when read-only). Writes put
 * payload data in place, flushed, before the BAT and sector bitmap changes that point at it go through
 * the log. Not thread-safe: one operation uses an instance at a time.
 */
public final class VhdxFile implements VirtualDisk {

    private static final String CREATOR = "chainmerge";
    private static final byte[] SIGNATURE = "vhdxfile".getBytes(StandardCharsets.US_ASCII);
    private static final int CREATOR_AT = 8;
    private static final int CREATOR_LENGTH = 512;

    private final Path path;
    private final DiskChannel channel;
    private final PageStore pages;
    private final HeaderPair headers;
    private final RegionTable regions;
    private final RegionTable.RegionEntry batRegion;
    private final RegionTable.RegionEntry metadataRegion;
    private MetadataRegion metadata;
    private final BatGeometry geometry;
    private final DiskType type;

    private boolean sessionStarted;
    private boolean identityChangedThisSession;
    private LogWriter log;
    private long nextFreeOffset = -1;
    private boolean dataUnflushed;
    private boolean closed;
    /**
     * The first write or flush that failed. Nothing is committed after it: data it did not write (or a
     * failed flush dropped, as Linux may) must never become visible through a BAT entry or a bitmap bit.
     */
    private IOException failure;

    private VhdxFile(Path path, DiskChannel channel) throws IOException {
        this.path = path;
        this.channel = channel;
        this.pages = new PageStore(channel);
        long fileSize = channel.size();
        if (fileSize < Layout.HEADER_SECTION_SIZE) {
            throw new CorruptDiskException(
                    path,
                    0,
                    "header section",
                    "the file is truncated: " + fileSize + " bytes, shorter than the 1 MiB header section");
        }
        checkSignature();
        this.headers = HeaderPair.read(channel);
        VhdxHeader header = headers.current();
        // MS-VHDX 2.3.3: a pending log is replayed before anything but the headers and the log is
        // read. It is replayed in memory first, even for a writable open, so that a file whose
        // other structures are bad is refused before the replay writes a byte of it.
        LogReplay replay = header.hasLog() ? findLog(header) : null;
        if (replay != null) {
            pages.overlay(replay.updates(), replay.lastFileOffset());
        }
        this.regions = readRegionTable();
        regions.validate(path, pages.size(), header.logOffset(), header.logLength());
        this.batRegion = regions.find(RegionTable.BAT);
        this.metadataRegion = regions.find(RegionTable.METADATA);
        this.metadata = MetadataRegion.parse(path, metadataRegion.fileOffset(), metadataRegion.length(), pages);
        FileParameters parameters = metadata.fileParameters;
        this.geometry = new BatGeometry(
                metadata.virtualDiskSize, parameters.blockSize(), metadata.logicalSectorSize, parameters.hasParent());
        if (geometry.totalEntries() * 8 > batRegion.length()) {
            throw new CorruptDiskException(
                    path,
                    batRegion.fileOffset(),
                    "BAT region",
                    "the BAT region holds " + batRegion.length() / 8 + " entries, the disk needs "
                            + geometry.totalEntries());
        }
        this.type = parameters.hasParent()
                ? DiskType.DIFFERENCING
                : parameters.leaveBlocksAllocated() ? DiskType.FIXED : DiskType.DYNAMIC;
        if (replay != null) {
            checkReplayedSize(header, replay);
            if (channel.isWritable()) {
                applyLog(replay);
            }
        }
    }

    public static VhdxFile open(Path file, Access access) throws IOException {
        DiskChannel channel = DiskChannel.open(file, access);
        try {
            return new VhdxFile(channel.path(), channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private void checkSignature() throws IOException {
        ByteBuffer raw = ByteBuffer.allocate(SIGNATURE.length);
        channel.readFully(raw, 0, "file type identifier");
        if (!java.util.Arrays.equals(raw.array(), SIGNATURE)) {
            throw new CorruptDiskException(path, 0, "file type identifier Signature", "not \"vhdxfile\"");
        }
    }

    private LogReplay findLog(VhdxHeader header) throws IOException {
        long logLength = header.logLength();
        if (logLength > 64 * Layout.MIB) {
            throw new CorruptDiskException(
                    path, header.logOffset(), "log", "a log of " + logLength + " bytes is beyond any real file's");
        }
        ByteBuffer log = ByteBuffer.allocate((int) logLength);
        channel.readFully(log, header.logOffset(), "log");
        return LogReplay.find(path, header.logOffset(), log.clear(), header.logGuid(), channel.size());
    }

    /**
     * The log may extend the file to its LastFileOffset (MS-VHDX 2.3.3), but no further than the file
     * could need: every structure the headers and regions place, and every block of the disk
     * allocated after them. A larger value would have a writable open grow the file without bound.
     */
    private void checkReplayedSize(VhdxHeader header, LogReplay replay) throws IOException {
        long structuresEnd = Math.max(Layout.HEADER_SECTION_SIZE, header.logOffset() + header.logLength());
        for (RegionTable.RegionEntry region : regions.entries()) {
            structuresEnd = Math.max(structuresEnd, region.end());
        }
        long blocks = geometry.payloadBlocks() * geometry.blockSize()
                + (type == DiskType.DIFFERENCING ? geometry.bitmapBlocks() * BatGeometry.BITMAP_BLOCK_SIZE : 0);
        long largest = Math.max(channel.size(), structuresEnd + blocks);
        if (replay.lastFileOffset() > largest) {
            throw new CorruptDiskException(
                    path,
                    header.logOffset() + replay.head().position() + LogReplay.LAST_FILE_OFFSET_AT,
                    "log entry LastFileOffset",
                    "the log would extend the file to " + replay.lastFileOffset()
                            + " bytes, more than this disk can need (" + largest + ")");
        }
    }

    /**
     * Writes the replayed log into the file, after a header update as any first change must, flushes,
     * and only then clears the LogGuid, so a crash during replay replays again.
     */
    private void applyLog(LogReplay replay) throws IOException {
        startSession(null);
        for (LogEntry.Update update : replay.updates()) {
            if (update.data() != null) {
                channel.writeFully(ByteBuffer.wrap(update.data()), update.fileOffset());
            } else {
                Zeros.write(channel, update.fileOffset(), update.zeroLength());
            }
            CrashPoints.reach("vhdx.replay.applying");
        }
        if (channel.size() < replay.lastFileOffset()) {
            channel.writeFully(ByteBuffer.allocate(1), replay.lastFileOffset() - 1);
        }
        channel.force();
        CrashPoints.reach("vhdx.replay.applied");
        headers.update(h -> h.withLogGuid(Guids.ZERO));
        pages.dropOverlay();
    }

    private RegionTable readRegionTable() throws IOException {
        try {
            return RegionTable.parse(path, RegionTable.OFFSET1, pages.read(RegionTable.OFFSET1, RegionTable.SIZE));
        } catch (CorruptDiskException first) {
            try {
                return RegionTable.parse(path, RegionTable.OFFSET2, pages.read(RegionTable.OFFSET2, RegionTable.SIZE));
            } catch (CorruptDiskException second) {
                throw first;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Creating files

    /** Creates a fixed or dynamic VHDX; written under a temporary name and renamed when complete. */
    public static VhdxFile create(Path file, DiskSpec spec) throws IOException {
        int blockSize = blockSizeFor(spec);
        checkNewGeometry(file, spec.virtualSize(), blockSize, spec.logicalSectorSize());
        FileParameters parameters = new FileParameters(blockSize, spec.type() == DiskType.FIXED, false);
        UUID diskId = spec.virtualDiskId() != null ? spec.virtualDiskId() : Guids.random();
        MetadataRegion metadata = MetadataRegion.create(
                parameters, spec.virtualSize(), diskId, spec.logicalSectorSize(), spec.physicalSectorSize(), null);
        writeNewFile(file, metadata, spec.type() == DiskType.FIXED);
        return open(file, Access.WRITE);
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
        return open(file, Access.WRITE);
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
        if (Files.exists(file)) {
            throw new java.nio.file.FileAlreadyExistsException(file.toString());
        }
        FileParameters parameters = metadata.fileParameters;
        BatGeometry geometry = new BatGeometry(
                metadata.virtualDiskSize, parameters.blockSize(), metadata.logicalSectorSize, parameters.hasParent());
        long batLength = Layout.roundUpToMib(geometry.totalEntries() * 8);
        long payloadStart = Layout.NEW_BAT_OFFSET + batLength;
        Path temporary = file.resolveSibling("." + file.getFileName() + ".creating");
        Files.deleteIfExists(temporary);
        Files.createFile(temporary);
        try (DiskChannel channel = DiskChannel.open(temporary, Access.WRITE)) {
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
            channel.force();
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temporary);
            throw e;
        }
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE);
        Directories.force(file.toAbsolutePath().getParent());
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

    // ---------------------------------------------------------------------------------------------
    // What the disk is

    @Override
    public Path path() {
        return path;
    }

    @Override
    public DiskFormat format() {
        return DiskFormat.VHDX;
    }

    @Override
    public DiskType type() {
        return type;
    }

    @Override
    public long virtualSize() {
        return metadata.virtualDiskSize;
    }

    @Override
    public int blockSize() {
        return geometry.blockSize();
    }

    @Override
    public int logicalSectorSize() {
        return metadata.logicalSectorSize;
    }

    @Override
    public int physicalSectorSize() {
        return metadata.physicalSectorSize;
    }

    /** The DataWriteGuid: what a child's parent_linkage records. */
    @Override
    public UUID identity() {
        return headers.current().dataWriteGuid();
    }

    @Override
    public UUID virtualDiskId() {
        return metadata.virtualDiskId;
    }

    @Override
    public Optional<ParentLink> parentLink() {
        return metadata.parentLocator == null ? Optional.empty() : Optional.of(metadata.parentLocator.toParentLink());
    }

    @Override
    public long fileSize() throws IOException {
        return pages.size();
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable();
    }

    @Override
    public Map<String, Object> details() {
        VhdxHeader header = headers.current();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("sequenceNumber", Long.toUnsignedString(header.sequenceNumber()));
        details.put("fileWriteGuid", header.fileWriteGuid().toString());
        details.put("dataWriteGuid", header.dataWriteGuid().toString());
        details.put("logGuid", header.logGuid().toString());
        details.put("logOffset", header.logOffset());
        details.put("logLength", header.logLength());
        details.put("logReplayedInMemory", pages.hasOverlay());
        details.put("batOffset", batRegion.fileOffset());
        details.put("batEntries", geometry.totalEntries());
        details.put("chunkRatio", geometry.chunkRatio());
        details.put("metadataOffset", metadataRegion.fileOffset());
        details.put("leaveBlocksAllocated", metadata.fileParameters.leaveBlocksAllocated());
        if (metadata.parentLocator != null) {
            details.put("parentLocator", metadata.parentLocator.entries());
        }
        return details;
    }

    // ---------------------------------------------------------------------------------------------
    // Reading

    /** The payload entry of {@code block}, checked: a state the file type allows, a block inside the file. */
    private long payloadEntry(long block) throws IOException {
        long index = geometry.payloadEntryIndex(block);
        long entry = pages.readLong(batRegion.fileOffset() + index * 8);
        int state = BatEntry.state(entry);
        switch (state) {
            case BatEntry.PAYLOAD_NOT_PRESENT,
                    BatEntry.PAYLOAD_UNDEFINED,
                    BatEntry.PAYLOAD_ZERO,
                    BatEntry.PAYLOAD_UNMAPPED -> {
                return entry;
            }
            case BatEntry.PAYLOAD_FULLY_PRESENT -> checkBlockInFile(index, entry, geometry.blockSize());
            case BatEntry.PAYLOAD_PARTIALLY_PRESENT -> {
                if (type != DiskType.DIFFERENCING) {
                    throw batCorrupt(
                            index,
                            "a PARTIALLY_PRESENT block in a " + type.name().toLowerCase() + " disk");
                }
                checkBlockInFile(index, entry, geometry.blockSize());
                bitmapOffset(geometry.chunkOf(block), index);
            }
            default -> throw batCorrupt(index, "reserved payload block state " + state);
        }
        return entry;
    }

    /** The file offset of a chunk's sector bitmap block, which a partially present block requires. */
    private long bitmapOffset(long chunk, long forIndex) throws IOException {
        long index = geometry.bitmapEntryIndex(chunk);
        long entry = pages.readLong(batRegion.fileOffset() + index * 8);
        int state = BatEntry.state(entry);
        if (state != BatEntry.BITMAP_PRESENT && state != BatEntry.BITMAP_NOT_PRESENT) {
            throw batCorrupt(index, "reserved sector bitmap state " + state);
        }
        if (state != BatEntry.BITMAP_PRESENT) {
            throw batCorrupt(
                    forIndex,
                    "a PARTIALLY_PRESENT block whose chunk has no sector bitmap block (entry " + index + " state "
                            + state + ")");
        }
        checkBlockInFile(index, entry, BatGeometry.BITMAP_BLOCK_SIZE);
        return BatEntry.fileOffset(entry);
    }

    private void checkBlockInFile(long index, long entry, long length) throws IOException {
        long offsetMb = BatEntry.fileOffsetMb(entry);
        if (offsetMb < Layout.HEADER_SECTION_SIZE / Layout.MIB) {
            throw batCorrupt(index, "block offset " + offsetMb * Layout.MIB + " lies inside the header section");
        }
        // Blocks are whole MiBs at whole MiBs, so comparing in MiB units is exact and cannot overflow.
        long size = pages.size();
        if (length > size || offsetMb > (size - length) / Layout.MIB) {
            throw batCorrupt(
                    index,
                    "the file is truncated: the block at FileOffsetMB " + offsetMb + " (+" + length
                            + " bytes) ends past the end of the file (" + size + ")");
        }
    }

    private CorruptDiskException batCorrupt(long index, String problem) {
        return new CorruptDiskException(path, batRegion.fileOffset() + index * 8, "BAT entry " + index, problem);
    }

    @Override
    public void extents(long offset, long length, List<Extent> out) throws IOException {
        checkRange(offset, length);
        long end = offset + length;
        int blockSize = geometry.blockSize();
        for (long block = offset / blockSize; block * blockSize < end; block++) {
            long blockStart = block * blockSize;
            long from = Math.max(offset, blockStart);
            long to = Math.min(end, blockStart + geometry.blockLength(block));
            long entry = payloadEntry(block);
            int state = BatEntry.state(entry);
            if (state == BatEntry.PAYLOAD_FULLY_PRESENT) {
                Extents.addData(out, from, to - from, BatEntry.fileOffset(entry) + (from - blockStart));
            } else if (state == BatEntry.PAYLOAD_PARTIALLY_PRESENT) {
                addPresentRuns(block, entry, from, to, out);
            } else if (BatEntry.readsAsZeros(state)) {
                Extents.addZero(out, from, to - from);
            }
        }
    }

    /** Data extents for the runs of set bits in a partially present block's sector bitmap. */
    private void addPresentRuns(long block, long entry, long from, long to, List<Extent> out) throws IOException {
        int sector = geometry.logicalSectorSize();
        long blockStart = block * geometry.blockSize();
        long bitmap = bitmapOffset(geometry.chunkOf(block), geometry.payloadEntryIndex(block));
        long firstBit = geometry.firstBitOf(block) + (from - blockStart) / sector;
        int bits = (int) ((to - from) / sector);
        SectorBitmap.forEachRun(pages, bitmap, firstBit, bits, (runStart, runLength) -> {
            long runOffset = from + runStart * sector;
            Extents.addData(out, runOffset, runLength * sector, BatEntry.fileOffset(entry) + (runOffset - blockStart));
        });
    }

    @Override
    public void readStored(long fileOffset, ByteBuffer destination) throws IOException {
        pages.readInto(fileOffset, destination, "payload block");
    }

    private void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > virtualSize()) {
            throw new IllegalArgumentException(
                    "[%d, +%d) is outside the virtual disk of %d bytes".formatted(offset, length, virtualSize()));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Writing

    @Override
    public void write(long offset, ByteBuffer source) throws IOException {
        writeRange(offset, source.remaining(), source, false);
    }

    @Override
    public void writeZeros(long offset, long length) throws IOException {
        writeRange(offset, length, null, true);
    }

    private void writeRange(long offset, long length, ByteBuffer source, boolean zeros) throws IOException {
        requireWritable();
        checkRange(offset, length);
        int sector = logicalSectorSize();
        if (offset % sector != 0 || length % sector != 0) {
            throw new IllegalArgumentException(
                    "writes are whole %d-byte sectors: [%d, +%d)".formatted(sector, offset, length));
        }
        if (length == 0) {
            return;
        }
        try {
            startSession(identityChangedThisSession ? null : Guids.random());
            identityChangedThisSession = true;
            int blockSize = geometry.blockSize();
            long end = offset + length;
            for (long block = offset / blockSize; block * blockSize < end; block++) {
                long blockStart = block * blockSize;
                long from = Math.max(offset, blockStart);
                long to = Math.min(end, blockStart + geometry.blockLength(block));
                ByteBuffer part = null;
                if (!zeros) {
                    part = source.slice(source.position() + (int) (from - offset), (int) (to - from));
                }
                writeInBlock(block, from - blockStart, to - blockStart, part);
                commitIfFull();
            }
        } catch (IOException e) {
            throw failed(e);
        }
        if (source != null) {
            source.position(source.limit());
        }
    }

    private IOException failed(IOException e) {
        if (failure == null) {
            failure = e;
        }
        return e;
    }

    /** Writes {@code data} (null: zeros) at {@code [start, end)} of {@code block}, per {@link BlockWrite}. */
    private void writeInBlock(long block, long start, long end, ByteBuffer data) throws IOException {
        long entry = payloadEntry(block);
        int state = BatEntry.state(entry);
        boolean wholeBlock = start == 0 && end == geometry.blockLength(block);
        BlockWrite action = BlockWrite.decide(state, type == DiskType.DIFFERENCING, data == null, wholeBlock);
        long entryOffset = batRegion.fileOffset() + geometry.payloadEntryIndex(block) * 8;
        switch (action) {
            case NOTHING -> {}
            case SET_ZERO_STATE -> pages.writeLong(entryOffset, BatEntry.of(BatEntry.PAYLOAD_ZERO, 0));
            case IN_PLACE, IN_PLACE_SET_BITS -> {
                writePayload(BatEntry.fileOffset(entry) + start, data, end - start);
                if (action == BlockWrite.IN_PLACE_SET_BITS) {
                    setBits(block, start, end);
                }
            }
            case ALLOCATE_FULL, ALLOCATE_PARTIAL -> {
                if (action == BlockWrite.ALLOCATE_PARTIAL) {
                    ensureBitmapBlock(geometry.chunkOf(block));
                }
                long blockOffset = allocate(geometry.blockSize());
                writePayload(blockOffset + start, data, end - start);
                extendToCover(blockOffset, geometry.blockSize());

                if (action == BlockWrite.ALLOCATE_PARTIAL) {
                    setBits(block, start, end);
                }
                pages.writeLong(entryOffset, BatEntry.of(action.resultingState(state), blockOffset));
            }
        }
    }

    private void writePayload(long fileOffset, ByteBuffer data, long length) throws IOException {
        if (data != null) {
            channel.writeFully(data.duplicate(), fileOffset);
        } else {
            Zeros.write(channel, fileOffset, length);
        }
        dataUnflushed = true;
    }

    private void setBits(long block, long start, long end) throws IOException {
        int sector = logicalSectorSize();
        long bitmap = bitmapOffset(geometry.chunkOf(block), geometry.payloadEntryIndex(block));
        SectorBitmap.setRange(pages, bitmap, geometry.firstBitOf(block) + start / sector, (end - start) / sector);
    }

    /** Gives a chunk a zeroed sector bitmap block if it has none; the BAT points at it on commit. */
    private void ensureBitmapBlock(long chunk) throws IOException {
        long entryOffset = batRegion.fileOffset() + geometry.bitmapEntryIndex(chunk) * 8;
        long entry = pages.readLong(entryOffset);
        if (BatEntry.state(entry) == BatEntry.BITMAP_PRESENT) {
            return;
        }
        long offset = allocate(BatGeometry.BITMAP_BLOCK_SIZE);
        extendToCover(offset, BatGeometry.BITMAP_BLOCK_SIZE); // its pages are read back before commit

        pages.writeLong(entryOffset, BatEntry.of(BatEntry.BITMAP_PRESENT, offset));
    }

    /**
     * Takes {@code length} bytes (a block) at the end of the file's structures, reads as zeros. Space
     * there may hold bytes of an allocation a crash cut short: it is zeroed first.
     */
    private long allocate(long length) throws IOException {
        if (nextFreeOffset < 0) {
            nextFreeOffset = computeNextFreeOffset();
        }
        long offset = nextFreeOffset;
        nextFreeOffset += length;
        long fileSize = channel.size();
        if (offset < fileSize) {
            Zeros.write(channel, offset, Math.min(length, fileSize - offset));
            pages.invalidate(offset, length);
        }
        dataUnflushed = true;
        return offset;
    }

    /**
     * Makes the file reach the end of a block it allocated, so every block the BAT points at lies
     * within the file. Done after the block's data is written, which usually reaches the end already.
     */
    private void extendToCover(long offset, long length) throws IOException {
        if (channel.size() < offset + length) {
            channel.writeFully(ByteBuffer.allocate(1), offset + length - 1);
        }
    }

    /**
     * The first 1 MiB boundary after every structure the file's headers, regions and BAT reference and,
     * in a file another application created, after its last byte too: what lies past its last structure
     * is that producer's, as in a VHD (docs/vhd.md, "Owning only what the format gives chainmerge"). In
     * a file chainmerge created, it can only be blocks a crash left unreferenced, and is taken again.
     */
    private long computeNextFreeOffset() throws IOException {
        VhdxHeader header = headers.current();
        long fileSize = pages.size();
        long end = Math.max(Layout.HEADER_SECTION_SIZE, header.logOffset() + header.logLength());
        for (RegionTable.RegionEntry region : regions.entries()) {
            end = Math.max(end, region.end());
        }
        long entries = geometry.totalEntries();
        long chunkRatio = geometry.chunkRatio();
        for (long index = 0; index < entries; index++) {
            long entry = pages.readLong(batRegion.fileOffset() + index * 8);
            boolean bitmapEntry = index % (chunkRatio + 1) == chunkRatio;
            int state = BatEntry.state(entry);
            long length = bitmapEntry ? BatGeometry.BITMAP_BLOCK_SIZE : geometry.blockSize();
            boolean holdsSpace = bitmapEntry
                    ? state == BatEntry.BITMAP_PRESENT
                    // UNDEFINED and UNMAPPED blocks may keep their old space and content (MS-VHDX 2.5.1.1).
                    : state != BatEntry.PAYLOAD_NOT_PRESENT && state != BatEntry.PAYLOAD_ZERO;
            // verify() has put every present block inside the file; an UNDEFINED or UNMAPPED block
            // pointing past it has no space to keep, and must not push allocations out there.
            long offsetMb = BatEntry.fileOffsetMb(entry);
            if (holdsSpace && offsetMb != 0 && offsetMb <= (fileSize - length) / Layout.MIB) {
                end = Math.max(end, BatEntry.fileOffset(entry) + length);
            }
        }
        if (!createdHere()) {
            end = Math.max(end, fileSize);
        }
        return Layout.roundUpToMib(end);
    }

    /** Whether the file type identifier names chainmerge as the file's creator. */
    private boolean createdHere() throws IOException {
        ByteBuffer raw = pages.read(CREATOR_AT, CREATOR_LENGTH).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        StringBuilder creator = new StringBuilder();
        while (raw.remaining() >= 2) {
            char c = raw.getChar();
            if (c == 0) {
                break;
            }
            creator.append(c);
        }
        return creator.toString().equals(CREATOR);
    }

    @Override
    public void commit() throws IOException {
        if (!channel.isWritable()) {
            return;
        }
        if (failure != null) {
            throw new IOException(path + ": not committed: an earlier write failed", failure);
        }
        try {
            publish();
        } catch (IOException e) {
            throw failed(e);
        }
    }

    @Override
    public void flushWrittenData() throws IOException {
        channel.force();
    }

    /** Data first, flushed; then the metadata pages that point at it, through the log. */
    private void publish() throws IOException {
        if (dataUnflushed) {

            channel.force();
            dataUnflushed = false;
            CrashPoints.reach("vhdx.commit.data-flushed");
        }
        if (!pages.hasDirty()) {
            return;
        }
        startSession(null);
        boolean firstEntry = log == null;
        if (firstEntry) {
            VhdxHeader header = headers.current();
            log = new LogWriter(channel, header.logOffset(), header.logLength(), Guids.random());
        }
        long fileSize = channel.size();
        long lastFileOffset = Layout.roundUpToMib(Math.max(fileSize, Math.max(nextFreeOffset, 0)));
        log.write(pages.dirtyUpdates(), fileSize / Layout.MIB * Layout.MIB, lastFileOffset);
        if (firstEntry) {
            // The header takes the session's LogGuid only once an entry carrying it is flushed: at no
            // instant does the header name a log with no valid entry, which a reader must refuse
            // (MS-VHDX 2.3.3). Until then the header's LogGuid is zero and the entry is ignored.
            headers.update(h -> h.withLogGuid(log.logGuid()));
        }
        CrashPoints.reach("vhdx.commit.logged");
        boolean first = true;
        for (LogEntry.Update update : pages.dirtyUpdates()) {
            channel.writeFully(ByteBuffer.wrap(update.data()), update.fileOffset());
            if (first) {
                CrashPoints.reach("vhdx.commit.applying");
                first = false;
            }
        }
        channel.force();
        pages.markCommitted();
        CrashPoints.reach("vhdx.commit.applied");
    }

    /** The most metadata pages one commit may change: one log entry, so a commit is atomic. */
    int commitCapacity() {
        return LogEntry.capacity(headers.current().logLength() / 2);
    }

    /** Commits when the pending metadata nears what one log entry holds. */
    void commitIfFull() throws IOException {
        if (pages.dirtyCount() > commitCapacity() / 2) {
            commit();
        }
    }

    /**
     * The header update of a writing session (MS-VHDX 2.2.2.1): a new FileWriteGuid before the first
     * change of the session, and a new DataWriteGuid when given, in one update.
     */
    private void startSession(UUID newDataWriteGuid) throws IOException {
        requireWritable();
        boolean newFileWriteGuid = !sessionStarted;
        if (!newFileWriteGuid && newDataWriteGuid == null) {
            return;
        }
        if (newFileWriteGuid) {
            // Opening checks only what reading needs; nothing is written to a file until all of it
            // is known to be sound, so a bad BAT entry anywhere refuses the first change, not a later one.
            verify();
        }
        headers.update(h -> {
            VhdxHeader next = h;
            if (newFileWriteGuid) {
                next = next.withFileWriteGuid(Guids.random());
            }
            if (newDataWriteGuid != null) {
                next = next.withDataWriteGuid(newDataWriteGuid);
            }
            return next;
        });
        sessionStarted = true;
    }

    private void requireWritable() {
        if (!channel.isWritable()) {
            throw new IllegalStateException(path + " is open for reading only");
        }
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
        if (failure != null) {
            throw new IllegalStateException(path + ": an earlier write failed; open the file again", failure);
        }
    }

    @Override
    public SpaceEstimator spaceEstimator() throws IOException {
        if (nextFreeOffset < 0) {
            nextFreeOffset = computeNextFreeOffset();
        }
        return new Estimator(channel.size(), nextFreeOffset);
    }

    /** Mirrors {@link #writeInBlock}: the block decisions, with allocations counted instead of made. */
    private final class Estimator implements SpaceEstimator {
        private final long fileSize;
        private long allocationEnd;
        private long currentBlock = -1;
        private int currentState;
        private final BitSet chunksGivenBitmaps = new BitSet();

        Estimator(long fileSize, long nextFree) {
            this.fileSize = fileSize;
            this.allocationEnd = nextFree;
        }

        @Override
        public void add(long offset, long length, boolean zeros) throws IOException {
            checkRange(offset, length);
            int blockSize = geometry.blockSize();
            long end = offset + length;
            for (long block = offset / blockSize; block * blockSize < end; block++) {
                long blockStart = block * blockSize;
                long from = Math.max(offset, blockStart);
                long to = Math.min(end, blockStart + geometry.blockLength(block));
                if (block != currentBlock) {
                    currentBlock = block;
                    currentState = BatEntry.state(payloadEntry(block));
                }
                boolean wholeBlock = from == blockStart && to == blockStart + geometry.blockLength(block);
                BlockWrite action = BlockWrite.decide(currentState, type == DiskType.DIFFERENCING, zeros, wholeBlock);
                if (action == BlockWrite.ALLOCATE_PARTIAL) {
                    long chunk = geometry.chunkOf(block);
                    long bitmapEntry = pages.readLong(batRegion.fileOffset() + geometry.bitmapEntryIndex(chunk) * 8);
                    if (BatEntry.state(bitmapEntry) != BatEntry.BITMAP_PRESENT
                            && !chunksGivenBitmaps.get((int) chunk)) {
                        chunksGivenBitmaps.set((int) chunk);
                        allocationEnd += BatGeometry.BITMAP_BLOCK_SIZE;
                    }
                }
                if (action.allocates()) {
                    allocationEnd += blockSize;
                }
                currentState = action.resultingState(currentState);
            }
        }

        @Override
        public long growthBytes() {
            return Math.max(0, allocationEnd - fileSize);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Chain maintenance

    @Override
    public void acceptParentIdentity(UUID futureParentIdentity) throws IOException {
        ParentLocator locator = requireLocator();
        if (locator.toParentLink().accepts(futureParentIdentity)) {
            return;
        }
        // MS-VHDX note 12: the child takes the parent's new DataWriteGuid in parent_linkage2 first.
        rewriteMetadata(metadata.withParentLocator(
                locator.with(ParentLocator.PARENT_LINKAGE2, Guids.braced(futureParentIdentity))));
    }

    @Override
    public void changeIdentity(UUID newIdentity) throws IOException {
        requireWritable();
        // A merge resumed after a crash finds the identity already taken; its data changes complete
        // the same merge, which the linked child already accepts.
        try {
            startSession(identity().equals(newIdentity) ? null : newIdentity);
        } catch (IOException e) {
            throw failed(e);
        }
        identityChangedThisSession = true;
    }

    @Override
    public void setParent(VirtualDisk parent) throws IOException {
        if (parent.format() != DiskFormat.VHDX) {
            throw new InvalidChainException(
                    path, path + ": a VHDX disk cannot have the " + parent.format() + " parent " + parent.path());
        }
        ParentLocator locator = requireLocator();
        ParentLocator updated = locator.without(ParentLocator.PARENT_LINKAGE2)
                .without(ParentLocator.RELATIVE_PATH)
                .without(ParentLocator.VOLUME_PATH)
                .without(ParentLocator.ABSOLUTE_WIN32_PATH)
                .with(ParentLocator.PARENT_LINKAGE, Guids.braced(parent.identity()));
        for (ParentPath parentPath : ParentPaths.forParent(path, parent.path())) {
            updated = switch (parentPath.kind()) {
                case RELATIVE -> updated.with(ParentLocator.RELATIVE_PATH, parentPath.value());
                case VOLUME -> updated.with(ParentLocator.VOLUME_PATH, parentPath.value());
                case ABSOLUTE -> updated.with(ParentLocator.ABSOLUTE_WIN32_PATH, parentPath.value());
                case OTHER -> updated;
            };
        }
        if (!updated.equals(locator)) {
            rewriteMetadata(metadata.withParentLocator(updated));
        }
    }

    @Override
    public void adoptVirtualDiskId(UUID virtualDiskId) throws IOException {
        if (!metadata.virtualDiskId.equals(virtualDiskId)) {
            rewriteMetadata(metadata.withVirtualDiskId(virtualDiskId));
        }
    }

    private ParentLocator requireLocator() {
        if (metadata.parentLocator == null) {
            throw new IllegalStateException(path + " is not a differencing disk");
        }
        return metadata.parentLocator;
    }

    /**
     * Metadata changes go through the log as one entry: the pages of the region that differ. They are
     * no change to what the chain reads, so only the FileWriteGuid changes (MS-VHDX 2.2.2).
     */
    private void rewriteMetadata(MetadataRegion updated) throws IOException {
        requireWritable();
        updated.checkFits(path, metadataRegion.length());
        try {
            startSession(null);
            pages.writeChanged(metadataRegion.fileOffset(), updated.encode(metadataRegion.length()));
        } catch (IOException e) {
            throw failed(e);
        }
        metadata = updated;
        commit();
    }

    // ---------------------------------------------------------------------------------------------
    // Checking

    @Override
    public void verify() throws IOException {
        BitSet used = new BitSet();
        VhdxHeader header = headers.current();
        markUsed(used, 0, Layout.HEADER_SECTION_SIZE, "header section", -1);
        markUsed(used, header.logOffset(), header.logLength(), "log", -1);
        for (RegionTable.RegionEntry region : regions.entries()) {
            markUsed(used, region.fileOffset(), region.length(), "region " + region.guid(), -1);
        }
        long entries = geometry.totalEntries();
        long chunkRatio = geometry.chunkRatio();
        for (long index = 0; index < entries; index++) {
            long entry = pages.readLong(batRegion.fileOffset() + index * 8);
            if (BatEntry.reservedBits(entry) != 0) {
                throw batCorrupt(index, "reserved bits are set");
            }
            int state = BatEntry.state(entry);
            boolean bitmapEntry = index % (chunkRatio + 1) == chunkRatio;
            if (bitmapEntry) {
                if (state == BatEntry.BITMAP_PRESENT) {
                    if (type != DiskType.DIFFERENCING) {
                        throw batCorrupt(index, "a sector bitmap block in a disk without a parent");
                    }
                    checkBlockInFile(index, entry, BatGeometry.BITMAP_BLOCK_SIZE);
                    markUsed(
                            used,
                            BatEntry.fileOffset(entry),
                            BatGeometry.BITMAP_BLOCK_SIZE,
                            "sector bitmap block",
                            index);
                } else if (state != BatEntry.BITMAP_NOT_PRESENT) {
                    throw batCorrupt(index, "reserved sector bitmap state " + state);
                }
                continue;
            }
            long block = index - index / (chunkRatio + 1);
            if (block >= geometry.payloadBlocks()) {
                continue; // entries past the last block of a differencing disk's last chunk
            }
            payloadEntry(block);
            if (BatEntry.isAllocated(state)) {
                markUsed(used, BatEntry.fileOffset(entry), geometry.blockSize(), "payload block", index);
            }
        }
    }

    private void markUsed(BitSet used, long offset, long length, String what, long batIndex)
            throws CorruptDiskException {
        int first = (int) (offset / Layout.MIB);
        int last = (int) ((offset + length - 1) / Layout.MIB);
        int clash = used.nextSetBit(first);
        if (clash >= 0 && clash <= last) {
            String problem = what + " at " + offset + " overlaps another structure at " + clash * Layout.MIB;
            throw batIndex >= 0 ? batCorrupt(batIndex, problem) : new CorruptDiskException(path, offset, what, problem);
        }
        used.set(first, last + 1);
    }

    // ---------------------------------------------------------------------------------------------

    /**
     * Commits what is pending and, when this session used the log, clears the LogGuid: everything in
     * the log is in place, and readers that do not replay logs can open the file.
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            // After a failed write the file is left as the last commit made it: what is pending may
            // point at data that never reached the file.
            if (channel.isWritable() && failure == null) {
                commit();

                if (headers.current().hasLog()) {
                    headers.update(h -> h.withLogGuid(Guids.ZERO));
                }
            }
        } finally {
            closed = true;
            channel.close();
        }
    }

    @Override
    public String toString() {
        return "VHDX " + type.name().toLowerCase() + " " + path;
    }
}
