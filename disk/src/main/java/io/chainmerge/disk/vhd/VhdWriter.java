package io.chainmerge.disk.vhd;

import static io.chainmerge.disk.vhd.VhdFile.BATCH_BYTES;
import static io.chainmerge.disk.vhd.VhdFile.DATA_ALIGNMENT;
import static io.chainmerge.disk.vhd.VhdFile.MAX_DIRTY_BITMAPS;
import static io.chainmerge.disk.vhd.VhdFile.SECTOR_SIZE;
import static io.chainmerge.disk.vhd.VhdFile.place;
import static io.chainmerge.disk.vhd.VhdFile.roundUpToSector;

import io.chainmerge.disk.UnsupportedDiskException;
import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.io.Zeros;
import io.chainmerge.disk.vhd.VhdFile.Locator;
import io.chainmerge.disk.vhd.VhdFile.ParentRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The write path of one open {@link VhdFile}, in the order its class comment gives: the file grows by
 * whole blocks behind a footer moved on and flushed first; data and new blocks' bitmaps are flushed before
 * the BAT entries and bits that make them visible; a new dynamic disk header is written in one write after
 * the locator data it points at. Failures trip the file's {@link io.chainmerge.disk.io.WriteSession}
 * latch. Not thread-safe, like the file.
 */
final class VhdWriter {

    private final VhdFile file;
    private long nextFree = -1;
    private long reservedEnd = -1;
    private long holeStart;
    private boolean dataUnflushed;
    private DynamicDiskHeader pendingHeader;
    private final Set<Long> unpublished = new HashSet<>();
    private final Map<Long, SectorBitmap> dirtyBitmaps = new HashMap<>();

    VhdWriter(VhdFile file) {
        this.file = file;
    }

    void write(long offset, ByteBuffer source) throws IOException {
        writeRange(offset, source.remaining(), source, false);
    }

    void writeZeros(long offset, long length) throws IOException {
        writeRange(offset, length, null, true);
    }

    /** Where the file grows next; checks every block on first use (see {@link VhdFile#scanLayout()}). */
    long nextFree() throws IOException {
        ensureLayout();
        return nextFree;
    }

    /** Whether a footer further on is reserved: the file is growing and not yet cut to its new end. */
    boolean growing() {
        return reservedEnd >= 0;
    }

    /** A block's bitmap as pending writes changed it, or null. */
    SectorBitmap pendingBitmap(long block) {
        return dirtyBitmaps.get(block);
    }

    /** A dynamic disk header to write at the next commit, once what it points at is flushed. */
    void headerToPublish(DynamicDiskHeader next) {
        pendingHeader = next;
    }

    private void writeRange(long offset, long length, ByteBuffer source, boolean zeros) throws IOException {
        file.session.requireWritable();
        file.checkRange(offset, length);
        if (offset % SECTOR_SIZE != 0 || length % SECTOR_SIZE != 0) {
            throw new IllegalArgumentException(
                    "writes are whole %d-byte sectors: [%d, +%d)".formatted(SECTOR_SIZE, offset, length));
        }
        if (length == 0) {
            return;
        }
        try {
            writeSectors(offset, length, source, zeros);
        } catch (IOException e) {
            throw file.session.failed(e);
        }
    }

    private void writeSectors(long offset, long length, ByteBuffer source, boolean zeros) throws IOException {
        if (file.blocks == null) {
            // A fixed disk's data area is the virtual disk.
            writeData(offset, zeros ? null : source.duplicate(), length);
        } else {
            ensureLayout();
            int blockSize = file.blocks.blockSize();
            long end = offset + length;
            for (long block = offset / blockSize; block * blockSize < end; block++) {
                long blockStart = block * blockSize;
                long from = Math.max(offset, blockStart);
                long to = Math.min(end, blockStart + file.blocks.blockLength(block));
                ByteBuffer part =
                        zeros ? null : source.slice(source.position() + (int) (from - offset), (int) (to - from));
                writeInBlock(block, from - blockStart, to - blockStart, part);
                if (dirtyBitmaps.size() >= MAX_DIRTY_BITMAPS) {
                    file.commit();
                }
            }
        }
        if (source != null) {
            source.position(source.limit());
        }
    }

    /** Writes {@code data} (null: zeros) at {@code [start, end)} of {@code block}, per {@link BlockWrite}. */
    private void writeInBlock(long block, long start, long end, ByteBuffer data) throws IOException {
        BlockWrite action = BlockWrite.decide(file.bat().isAllocated(block), file.differencing(), data == null);
        switch (action) {
            case NOTHING -> {}
            case IN_PLACE -> writeData(file.blockDataOffset(block) + start, data, end - start);
            case IN_PLACE_SET_BITS -> {
                writeData(file.blockDataOffset(block) + start, data, end - start);
                setBits(block, start, end);
            }
            case ALLOCATE -> {
                long at = allocateBlock(block);
                writeData(at + file.blocks.bitmapSize() + start, data, end - start);
                if (file.differencing()) {
                    dirtyBitmaps.get(block).set((int) (start / SECTOR_SIZE), (int) ((end - start) / SECTOR_SIZE));
                }
                CrashPoints.reach("vhd.write.block-appended");
            }
        }
    }

    private void writeData(long fileOffset, ByteBuffer data, long length) throws IOException {
        if (data != null) {
            file.channel.writeFully(data.duplicate(), fileOffset);
        } else {
            Zeros.write(file.channel, fileOffset, length);
        }
        dataUnflushed = true;
    }

    /** Marks written sectors of a block the BAT already points at; the bits are written after the data is flushed. */
    private void setBits(long block, long start, long end) throws IOException {
        int first = (int) (start / SECTOR_SIZE);
        int count = (int) ((end - start) / SECTOR_SIZE);
        SectorBitmap current = file.bitmap(block);
        if (current.allSet(first, count)) {
            return;
        }
        SectorBitmap changed = dirtyBitmaps.computeIfAbsent(block, b -> current.copy());
        changed.set(first, count);
        file.bitmapCache.remove(block);
    }

    /**
     * Appends a block for {@code block}: zeroed, with a full bitmap in a dynamic disk and an empty one in
     * a differencing disk; the BAT points at it once {@link VhdFile#commit()} has flushed it.
     */
    private long allocateBlock(long block) throws IOException {
        long at = allocate(file.blocks.blockTotal(), file.blocks.bitmapSize(), DATA_ALIGNMENT);
        if (at / SECTOR_SIZE >= BlockAllocationTable.UNUSED) {
            throw new UnsupportedDiskException(
                    file.path, "the file would grow past 2 TiB, the most a VHD BAT addresses");
        }
        file.bat().set(block, at / SECTOR_SIZE);
        unpublished.add(block);
        file.checkedBlocks.set((int) block);
        int bitmapSize = file.blocks.bitmapSize();
        dirtyBitmaps.put(block, file.differencing() ? SectorBitmap.clear(bitmapSize) : SectorBitmap.full(bitmapSize));
        file.bitmapCache.remove(block);
        return at;
    }

    /**
     * Takes {@code length} bytes where the file grows, placed so that the part after the first {@code
     * leading} bytes is {@code alignment}-aligned, and zeroes what the file held there before (the old
     * footer, or what a crash cut short). The gap left for alignment is zeroed too.
     */
    private long allocate(long length, int leading, int alignment) throws IOException {
        ensureLayout();
        long at = place(nextFree, leading, alignment);
        if (reservedEnd >= 0 && at + length > reservedEnd) {
            file.commit();
            at = place(nextFree, leading, alignment);
        }
        reserve(at + length);
        long zeroTo = Math.min(at + length, holeStart);
        if (nextFree < zeroTo) {
            Zeros.write(file.channel, nextFree, zeroTo - nextFree);
        }
        nextFree = at + length;
        dataUnflushed = true;
        return at;
    }

    /**
     * Makes sure the file ends with a durable footer at or after {@code end}, so that nothing written
     * before it can destroy the file's last footer: either the footer already there (a crash left the
     * file longer), or a new one far enough on, flushed before anything overwrites the old one.
     */
    private void reserve(long end) throws IOException {
        if (reservedEnd >= 0) {
            return;
        }
        long size = file.channel.size();
        holeStart = size;
        if (end <= size - VhdFooter.SIZE) {
            reservedEnd = size - VhdFooter.SIZE;
        } else {
            reservedEnd = roundUpToSector(Math.max(end, nextFree + BATCH_BYTES));
            file.channel.writeFully(file.footer.encodeOver(file.footerBytes), reservedEnd);
            file.channel.force();
            CrashPoints.reach("vhd.grow.footer-moved");
        }
        file.footerAt = reservedEnd;
    }

    /**
     * Computes where the file grows, once per instance and before the first write: the first sector
     * after every structure. This checks every block first (see {@link VhdFile#scanLayout()}).
     */
    private void ensureLayout() throws IOException {
        if (nextFree < 0) {
            nextFree = file.scanLayout();
        }
    }

    void publish() throws IOException {

        if (reservedEnd >= 0) {
            for (long block : unpublished) {
                writeBitmap(block);
            }
            long end = nextFree;
            if (end != reservedEnd) {
                file.channel.writeFully(file.footer.encodeOver(file.footerBytes), end);
            }
            file.channel.force();
            dataUnflushed = false;
            CrashPoints.reach("vhd.commit.data-flushed");
            if (file.channel.size() > end + VhdFooter.SIZE) {
                file.channel.fileChannel().truncate(end + VhdFooter.SIZE);
            }
            file.footerAt = end;
            reservedEnd = -1;
        } else if (dataUnflushed) {
            file.channel.force();
            dataUnflushed = false;
            CrashPoints.reach("vhd.commit.data-flushed");
        }
        boolean bitmapsToPublish = dirtyBitmaps.keySet().stream().anyMatch(block -> !unpublished.contains(block));
        if (bitmapsToPublish || (file.bat != null && file.bat.hasPending()) || pendingHeader != null) {
            for (long block : dirtyBitmaps.keySet()) {
                if (!unpublished.contains(block)) {
                    writeBitmap(block);
                }
            }
            if (file.bat != null) {
                file.bat.writePending(file.channel);
            }
            ByteBuffer headerWritten = null;
            if (pendingHeader != null) {
                headerWritten = pendingHeader.encodeOver(file.headerBytes);
                file.channel.writeFully(headerWritten.duplicate(), file.footer.dataOffset());
            }
            file.channel.force();
            CrashPoints.reach("vhd.commit.published");
            if (pendingHeader != null) {
                file.headerPublished(pendingHeader, headerWritten.array());
                pendingHeader = null;
            }
        }
        file.bitmapCache.putAll(dirtyBitmaps);
        dirtyBitmaps.clear();
        unpublished.clear();
    }

    private void writeBitmap(long block) throws IOException {
        file.channel.writeFully(
                ByteBuffer.wrap(dirtyBitmaps.get(block).bytes()), file.bat().sectorOf(block) * SECTOR_SIZE);
    }

    /**
     * Writes the new locators' data. In a file chainmerge created, where it goes as the file grows, so the
     * current header's data stays intact until the new header replaces it. In a file another producer
     * created, into the space the current locators reserve when the data fits (the same platform code's
     * first, then any other), as blktap's {@code vhd-util modify -p} does: blktap keeps every locator
     * before the first block and its {@code vhd-util check} refuses a file with one after a block. A
     * crash before the header is rewritten then leaves old entries over new data: each names the same
     * parent's old place, its new one, or (cut at the old length) nothing, and the unique id decides.
     */
    List<ParentLocatorEntry> writeLocators(ParentRecord wanted) throws IOException {
        List<Locator> reusable = file.createdHere() ? new ArrayList<>() : new ArrayList<>(file.locators);
        List<ParentLocatorEntry> entries = new ArrayList<>();
        entries.add(writeLocator(ParentLocatorEntry.W2RU, wanted.relative(), reusable));
        entries.add(writeLocator(ParentLocatorEntry.W2KU, wanted.absolute(), reusable));
        while (entries.size() < DynamicDiskHeader.LOCATOR_ENTRIES) {
            entries.add(ParentLocatorEntry.UNUSED);
        }
        return entries;
    }

    private ParentLocatorEntry writeLocator(int platformCode, String value, List<Locator> reusable) throws IOException {
        byte[] data = value.getBytes(StandardCharsets.UTF_16LE);
        Locator slot = reusableSlot(reusable, platformCode, data.length);
        if (slot != null) {
            reusable.remove(slot);
            ParentLocatorEntry old = slot.entry();
            ByteBuffer space = ByteBuffer.allocate((int) roundUpToSector(old.reservedBytes()));
            space.put(data).clear();
            file.channel.writeFully(space, old.platformDataOffset());
            dataUnflushed = true;
            return new ParentLocatorEntry(platformCode, old.platformDataSpace(), data.length, old.platformDataOffset());
        }
        long space = roundUpToSector(data.length);
        long at = allocate(space, 0, SECTOR_SIZE);
        file.channel.writeFully(ByteBuffer.wrap(data), at);
        return new ParentLocatorEntry(platformCode, space, data.length, at);
    }

    private static Locator reusableSlot(List<Locator> reusable, int platformCode, int length) {
        Locator any = null;
        for (Locator locator : reusable) {
            if (locator.entry().reservedBytes() < length) {
                continue;
            }
            if (locator.entry().platformCode() == platformCode) {
                return locator;
            }
            if (any == null) {
                any = locator;
            }
        }
        return any;
    }
}
