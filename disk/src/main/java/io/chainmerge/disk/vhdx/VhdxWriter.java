package io.chainmerge.disk.vhdx;

import static io.chainmerge.disk.vhdx.VhdxFile.CREATOR;
import static io.chainmerge.disk.vhdx.VhdxFile.CREATOR_AT;
import static io.chainmerge.disk.vhdx.VhdxFile.CREATOR_LENGTH;

import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.io.Guids;
import io.chainmerge.disk.io.Zeros;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.UUID;

/**
 * The write path of one open {@link VhdxFile}: payload data goes in place and is flushed before the BAT
 * and sector bitmap changes that point at it go through the log, one log entry a commit. Also the
 * writing session's header update (MS-VHDX 2.2.2.1), which every change begins with. Failures trip the
 * file's {@link io.chainmerge.disk.io.WriteSession} latch. Not thread-safe, like the file.
 */
final class VhdxWriter {

    private final VhdxFile file;
    private boolean sessionStarted;
    private boolean identityChangedThisSession;
    private LogWriter log;
    private long nextFreeOffset = -1;
    private boolean dataUnflushed;

    VhdxWriter(VhdxFile file) {
        this.file = file;
    }

    void write(long offset, ByteBuffer source) throws IOException {
        writeRange(offset, source.remaining(), source, false);
    }

    void writeZeros(long offset, long length) throws IOException {
        writeRange(offset, length, null, true);
    }

    private void writeRange(long offset, long length, ByteBuffer source, boolean zeros) throws IOException {
        file.session.requireWritable();
        file.checkRange(offset, length);
        int sector = file.logicalSectorSize();
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
            int blockSize = file.geometry.blockSize();
            long end = offset + length;
            for (long block = offset / blockSize; block * blockSize < end; block++) {
                long blockStart = block * blockSize;
                long from = Math.max(offset, blockStart);
                long to = Math.min(end, blockStart + file.geometry.blockLength(block));
                ByteBuffer part = null;
                if (!zeros) {
                    part = source.slice(source.position() + (int) (from - offset), (int) (to - from));
                }
                writeInBlock(block, from - blockStart, to - blockStart, part);
                commitIfFull();
            }
        } catch (IOException e) {
            throw file.session.failed(e);
        }
        if (source != null) {
            source.position(source.limit());
        }
    }

    /** Writes {@code data} (null: zeros) at {@code [start, end)} of {@code block}, per {@link BlockWrite}. */
    private void writeInBlock(long block, long start, long end, ByteBuffer data) throws IOException {
        long entry = file.payloadEntry(block);
        int state = BatEntry.state(entry);
        boolean wholeBlock = start == 0 && end == file.geometry.blockLength(block);
        BlockWrite action = BlockWrite.decide(state, file.type == DiskType.DIFFERENCING, data == null, wholeBlock);
        long entryOffset = file.batRegion.fileOffset() + file.geometry.payloadEntryIndex(block) * 8;
        switch (action) {
            case NOTHING -> {}
            case SET_ZERO_STATE -> file.pages.writeLong(entryOffset, BatEntry.of(BatEntry.PAYLOAD_ZERO, 0));
            case IN_PLACE, IN_PLACE_SET_BITS -> {
                writePayload(BatEntry.fileOffset(entry) + start, data, end - start);
                if (action == BlockWrite.IN_PLACE_SET_BITS) {
                    setBits(block, start, end);
                }
            }
            case ALLOCATE_FULL, ALLOCATE_PARTIAL -> {
                if (action == BlockWrite.ALLOCATE_PARTIAL) {
                    ensureBitmapBlock(file.geometry.chunkOf(block));
                }
                long blockOffset = allocate(file.geometry.blockSize());
                writePayload(blockOffset + start, data, end - start);
                extendToCover(blockOffset, file.geometry.blockSize());

                if (action == BlockWrite.ALLOCATE_PARTIAL) {
                    setBits(block, start, end);
                }
                file.pages.writeLong(entryOffset, BatEntry.of(action.resultingState(state), blockOffset));
            }
        }
    }

    private void writePayload(long fileOffset, ByteBuffer data, long length) throws IOException {
        if (data != null) {
            file.channel.writeFully(data.duplicate(), fileOffset);
        } else {
            Zeros.write(file.channel, fileOffset, length);
        }
        dataUnflushed = true;
    }

    private void setBits(long block, long start, long end) throws IOException {
        int sector = file.logicalSectorSize();
        long bitmap = file.bitmapOffset(file.geometry.chunkOf(block), file.geometry.payloadEntryIndex(block));
        SectorBitmap.setRange(
                file.pages, bitmap, file.geometry.firstBitOf(block) + start / sector, (end - start) / sector);
    }

    /** Gives a chunk a zeroed sector bitmap block if it has none; the BAT points at it on commit. */
    private void ensureBitmapBlock(long chunk) throws IOException {
        long entryOffset = file.batRegion.fileOffset() + file.geometry.bitmapEntryIndex(chunk) * 8;
        long entry = file.pages.readLong(entryOffset);
        if (BatEntry.state(entry) == BatEntry.BITMAP_PRESENT) {
            return;
        }
        long offset = allocate(BatGeometry.BITMAP_BLOCK_SIZE);
        extendToCover(offset, BatGeometry.BITMAP_BLOCK_SIZE); // its pages are read back before commit

        file.pages.writeLong(entryOffset, BatEntry.of(BatEntry.BITMAP_PRESENT, offset));
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
        long fileSize = file.channel.size();
        if (offset < fileSize) {
            Zeros.write(file.channel, offset, Math.min(length, fileSize - offset));
            file.pages.invalidate(offset, length);
        }
        dataUnflushed = true;
        return offset;
    }

    /**
     * Makes the file reach the end of a block it allocated, so every block the BAT points at lies
     * within the file. Done after the block's data is written, which usually reaches the end already.
     */
    private void extendToCover(long offset, long length) throws IOException {
        if (file.channel.size() < offset + length) {
            file.channel.writeFully(ByteBuffer.allocate(1), offset + length - 1);
        }
    }

    /**
     * The first 1 MiB boundary after every structure the file's headers, regions and BAT reference and,
     * in a file another application created, after its last byte too: what lies past its last structure
     * is that producer's, as in a VHD (docs/vhd.md, "Owning only what the format gives chainmerge"). In
     * a file chainmerge created, it can only be blocks a crash left unreferenced, and is taken again.
     */
    private long computeNextFreeOffset() throws IOException {
        VhdxHeader header = file.headers.current();
        long fileSize = file.pages.size();
        long end = Math.max(Layout.HEADER_SECTION_SIZE, header.logOffset() + header.logLength());
        for (RegionTable.RegionEntry region : file.regions.entries()) {
            end = Math.max(end, region.end());
        }
        long entries = file.geometry.totalEntries();
        long chunkRatio = file.geometry.chunkRatio();
        for (long index = 0; index < entries; index++) {
            long entry = file.pages.readLong(file.batRegion.fileOffset() + index * 8);
            boolean bitmapEntry = index % (chunkRatio + 1) == chunkRatio;
            int state = BatEntry.state(entry);
            long length = bitmapEntry ? BatGeometry.BITMAP_BLOCK_SIZE : file.geometry.blockSize();
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
        ByteBuffer raw = file.pages.read(CREATOR_AT, CREATOR_LENGTH).order(java.nio.ByteOrder.LITTLE_ENDIAN);
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

    /** Data first, flushed; then the metadata pages that point at it, through the log. */
    void publish() throws IOException {
        if (dataUnflushed) {

            file.channel.force();
            dataUnflushed = false;
            CrashPoints.reach("vhdx.commit.data-flushed");
        }
        if (!file.pages.hasDirty()) {
            return;
        }
        startSession(null);
        boolean firstEntry = log == null;
        if (firstEntry) {
            VhdxHeader header = file.headers.current();
            log = new LogWriter(file.channel, header.logOffset(), header.logLength(), Guids.random());
        }
        long fileSize = file.channel.size();
        long lastFileOffset = Layout.roundUpToMib(Math.max(fileSize, Math.max(nextFreeOffset, 0)));
        log.write(file.pages.dirtyUpdates(), fileSize / Layout.MIB * Layout.MIB, lastFileOffset);
        if (firstEntry) {
            // The header takes the session's LogGuid only once an entry carrying it is flushed: at no
            // instant does the header name a log with no valid entry, which a reader must refuse
            // (MS-VHDX 2.3.3). Until then the header's LogGuid is zero and the entry is ignored.
            file.headers.update(h -> h.withLogGuid(log.logGuid()));
        }
        CrashPoints.reach("vhdx.commit.logged");
        boolean first = true;
        for (LogEntry.Update update : file.pages.dirtyUpdates()) {
            file.channel.writeFully(ByteBuffer.wrap(update.data()), update.fileOffset());
            if (first) {
                CrashPoints.reach("vhdx.commit.applying");
                first = false;
            }
        }
        file.channel.force();
        file.pages.markCommitted();
        CrashPoints.reach("vhdx.commit.applied");
    }

    /** The most metadata pages one commit may change: one log entry, so a commit is atomic. */
    private int commitCapacity() {
        return LogEntry.capacity(file.headers.current().logLength() / 2);
    }

    /** Commits when the pending metadata nears what one log entry holds. */
    private void commitIfFull() throws IOException {
        if (file.pages.dirtyCount() > commitCapacity() / 2) {
            file.commit();
        }
    }

    /** Allocations start here; computed from the BAT on first need. */
    long nextFreeOffset() throws IOException {
        if (nextFreeOffset < 0) {
            nextFreeOffset = computeNextFreeOffset();
        }
        return nextFreeOffset;
    }

    /** The disk took a new identity for this session (a merge's), so writes need no other. */
    void identityChanged() {
        identityChangedThisSession = true;
    }

    /**
     * The header update of a writing session (MS-VHDX 2.2.2.1): a new FileWriteGuid before the first
     * change of the session, and a new DataWriteGuid when given, in one update.
     */
    void startSession(UUID newDataWriteGuid) throws IOException {
        file.session.requireWritable();
        boolean newFileWriteGuid = !sessionStarted;
        if (!newFileWriteGuid && newDataWriteGuid == null) {
            return;
        }
        if (newFileWriteGuid) {
            // Opening checks only what reading needs; nothing is written to a file until all of it
            // is known to be sound, so a bad BAT entry anywhere refuses the first change, not a later one.
            file.verify();
        }
        file.headers.update(h -> {
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
}
