package io.chainmerge.disk.vhdx;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.DiskFormat;
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
import io.chainmerge.disk.io.DiskChannel;
import io.chainmerge.disk.io.Guids;
import io.chainmerge.disk.io.WriteSession;
import io.chainmerge.disk.io.Zeros;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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

    static final String CREATOR = "chainmerge";
    static final byte[] SIGNATURE = "vhdxfile".getBytes(StandardCharsets.US_ASCII);
    static final int CREATOR_AT = 8;
    static final int CREATOR_LENGTH = 512;

    final Path path;
    final DiskChannel channel;
    /** Whether this file may be written, and the latch a failed write trips: see {@link WriteSession}. */
    final WriteSession session;

    final PageStore pages;
    final HeaderPair headers;
    final RegionTable regions;
    final RegionTable.RegionEntry batRegion;
    private final RegionTable.RegionEntry metadataRegion;
    private MetadataRegion metadata;
    final BatGeometry geometry;
    final DiskType type;

    /** The write path: blocks, the log, the session's header updates. */
    private final VhdxWriter writer;

    private VhdxFile(Path path, DiskChannel channel) throws IOException {
        this.path = path;
        this.channel = channel;
        this.session = new WriteSession(path, channel.isWritable());
        this.writer = new VhdxWriter(this);
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
        writer.startSession(null);
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
    long payloadEntry(long block) throws IOException {
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
    long bitmapOffset(long chunk, long forIndex) throws IOException {
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

    void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > virtualSize()) {
            throw new IllegalArgumentException(
                    "[%d, +%d) is outside the virtual disk of %d bytes".formatted(offset, length, virtualSize()));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Writing: see VhdxWriter

    @Override
    public void write(long offset, ByteBuffer source) throws IOException {
        writer.write(offset, source);
    }

    @Override
    public void writeZeros(long offset, long length) throws IOException {
        writer.writeZeros(offset, length);
    }

    @Override
    public void commit() throws IOException {
        if (!channel.isWritable()) {
            return;
        }
        session.requireNoFailure();
        session.latching(writer::publish);
    }

    @Override
    public void flushWrittenData() throws IOException {
        channel.force();
    }

    @Override
    public SpaceEstimator spaceEstimator() throws IOException {
        return new VhdxEstimator(this, channel.size(), writer.nextFreeOffset());
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
        session.requireWritable();
        // A merge resumed after a crash finds the identity already taken; its data changes complete
        // the same merge, which the linked child already accepts.
        try {
            writer.startSession(identity().equals(newIdentity) ? null : newIdentity);
        } catch (IOException e) {
            throw session.failed(e);
        }
        writer.identityChanged();
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
        session.requireWritable();
        updated.checkFits(path, metadataRegion.length());
        try {
            writer.startSession(null);
            pages.writeChanged(metadataRegion.fileOffset(), updated.encode(metadataRegion.length()));
        } catch (IOException e) {
            throw session.failed(e);
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
        if (session.isClosed()) {
            return;
        }
        try {
            // After a failed write the file is left as the last commit made it: what is pending may
            // point at data that never reached the file.
            if (channel.isWritable() && !session.hasFailed()) {
                commit();

                if (headers.current().hasLog()) {
                    headers.update(h -> h.withLogGuid(Guids.ZERO));
                }
            }
        } finally {
            session.markClosed();
            channel.close();
        }
    }

    @Override
    public String toString() {
        return "VHDX " + type.name().toLowerCase() + " " + path;
    }
}
