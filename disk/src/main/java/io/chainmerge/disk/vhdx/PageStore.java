package io.chainmerge.disk.vhdx;

import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.io.Bounds;
import io.chainmerge.disk.io.DiskChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The file as the VHDX metadata sees it, in 4 KiB pages: reads see the log replayed in memory (for a
 * read-only open) and the changes not yet committed; writes mark pages dirty until the owner commits
 * them through the log. A bounded cache of clean pages keeps BAT walks cheap without holding the BAT.
 */
final class PageStore implements RangeReader {
    static final int PAGE = Layout.LOG_SECTOR;
    private static final int CACHE_PAGES = 512;
    private static final byte[] ZEROS = new byte[PAGE];

    private final DiskChannel channel;
    private final TreeMap<Long, byte[]> overlay = new TreeMap<>();
    /**
     * Ranges a replayed log zeroes, under the overlay's pages: disjoint, start to end, so a read finds
     * the few it meets without walking the thousands a log may hold.
     */
    private final TreeMap<Long, Long> overlayZeros = new TreeMap<>();

    private final TreeMap<Long, byte[]> dirty = new TreeMap<>();
    private final Map<Long, byte[]> cache = new LinkedHashMap<>(CACHE_PAGES, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, byte[]> eldest) {
            return size() > CACHE_PAGES;
        }
    };
    /** The size the file has once a log replayed in memory has extended it. */
    private long replayedSize;

    PageStore(DiskChannel channel) {
        this.channel = channel;
    }

    /**
     * Lays a replayed log over the file in memory (MS-VHDX note 5: read-only opens replay in memory).
     * Zero descriptors stay ranges: a log may zero far more than memory holds.
     */
    void overlay(List<LogEntry.Update> updates, long lastFileOffset) {
        for (LogEntry.Update update : updates) {
            if (update.data() == null) {
                long end = update.fileOffset() + update.zeroLength();
                // A later zero range hides the pages earlier descriptors wrote in it.
                overlay.subMap(update.fileOffset(), end).clear();
                Long before = overlay.lowerKey(update.fileOffset());
                if (before != null && before + PAGE > update.fileOffset()) {
                    overlay.remove(before);
                }
                addZeroRange(update.fileOffset(), end);
                continue;
            }
            for (int at = 0; at < update.data().length; at += PAGE) {
                overlay.put(update.fileOffset() + at, Arrays.copyOfRange(update.data(), at, at + PAGE));
            }
        }
        replayedSize = Math.max(replayedSize, lastFileOffset);
        cache.clear();
    }

    private void addZeroRange(long start, long end) {
        Map.Entry<Long, Long> before = overlayZeros.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            start = before.getKey();
            end = Math.max(end, before.getValue());
        }
        Map<Long, Long> joined = overlayZeros.subMap(start, true, end, true);
        for (long joinedEnd : joined.values()) {
            end = Math.max(end, joinedEnd);
        }
        joined.clear();
        overlayZeros.put(start, end);
    }

    /** Forgets the replayed log once it is in the file itself. */
    void dropOverlay() {
        overlay.clear();
        overlayZeros.clear();
        replayedSize = 0;
        cache.clear();
    }

    boolean hasOverlay() {
        return !overlay.isEmpty() || !overlayZeros.isEmpty();
    }

    /** The file's size as the format sees it: a log replayed in memory may extend it. */
    long size() throws IOException {
        return Math.max(channel.size(), replayedSize);
    }

    @Override
    public ByteBuffer read(long fileOffset, int length) throws IOException {
        ByteBuffer out = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        readInto(fileOffset, out, "metadata");
        return out.clear();
    }

    /**
     * Fills {@code destination} from {@code fileOffset}: the file's bytes, with the overlay and the
     * dirty pages laid over them. Bytes past the end of the file read as zeros only up to the size a
     * replayed log gave it; past that the file is truncated.
     */
    void readInto(long fileOffset, ByteBuffer destination, String structure) throws IOException {
        int start = destination.position();
        int length = destination.remaining();
        long size = size();
        if (!Bounds.fits(fileOffset, length, size)) {
            throw new CorruptDiskException(
                    channel.path(),
                    fileOffset,
                    structure,
                    "the file is truncated: it ends at " + size + ", before this structure does");
        }
        int got = channel.readAvailable(destination, fileOffset);
        zero(destination, start + got, length - got);
        if (!overlayZeros.isEmpty()) {
            Long first = overlayZeros.floorKey(fileOffset);
            for (Map.Entry<Long, Long> zeros : overlayZeros
                    .subMap(first == null ? fileOffset : first, true, fileOffset + length, false)
                    .entrySet()) {
                long from = Math.max(zeros.getKey(), fileOffset);
                long to = Math.min(zeros.getValue(), fileOffset + length);
                if (from < to) {
                    zero(destination, start + (int) (from - fileOffset), (int) (to - from));
                }
            }
        }
        patch(overlay, fileOffset, destination, start, length);
        patch(dirty, fileOffset, destination, start, length);
        destination.position(start + length);
    }

    private static void zero(ByteBuffer destination, int at, int count) {
        for (int done = 0; done < count; done += ZEROS.length) {
            destination.put(at + done, ZEROS, 0, Math.min(ZEROS.length, count - done));
        }
    }

    private static void patch(
            TreeMap<Long, byte[]> pages, long fileOffset, ByteBuffer destination, int start, int length) {
        if (pages.isEmpty()) {
            return;
        }
        long end = fileOffset + length;
        Long first = pages.floorKey(fileOffset);
        Map<Long, byte[]> overlapping = pages.subMap(first == null ? fileOffset : first, true, end, false);
        for (Map.Entry<Long, byte[]> entry : overlapping.entrySet()) {
            long pageStart = entry.getKey();
            long from = Math.max(pageStart, fileOffset);
            long to = Math.min(pageStart + PAGE, end);
            if (from < to) {
                destination.put(start + (int) (from - fileOffset), entry.getValue(), (int) (from - pageStart), (int)
                        (to - from));
            }
        }
    }

    long readLong(long fileOffset) throws IOException {
        long pageStart = fileOffset - fileOffset % PAGE;
        return ByteBuffer.wrap(page(pageStart)).order(ByteOrder.LITTLE_ENDIAN).getLong((int) (fileOffset - pageStart));
    }

    private byte[] page(long pageStart) throws IOException {
        byte[] page = dirty.get(pageStart);
        if (page == null) {
            page = overlay.get(pageStart);
        }
        if (page == null) {
            page = cache.get(pageStart);
        }
        if (page == null) {
            ByteBuffer buffer = ByteBuffer.allocate(PAGE);
            readInto(pageStart, buffer, "metadata page");
            page = buffer.array();
            cache.put(pageStart, page);
        }
        return page;
    }

    /** Changes bytes of metadata; they reach the file when the owner commits. */
    void write(long fileOffset, byte[] bytes) throws IOException {
        int done = 0;
        while (done < bytes.length) {
            long at = fileOffset + done;
            long pageStart = at - at % PAGE;
            byte[] page = dirty.get(pageStart);
            if (page == null) {
                page = page(pageStart).clone();
                dirty.put(pageStart, page);
            }
            int inPage = (int) (at - pageStart);
            int n = Math.min(PAGE - inPage, bytes.length - done);
            System.arraycopy(bytes, done, page, inPage, n);
            done += n;
        }
    }

    void writeLong(long fileOffset, long value) throws IOException {
        write(
                fileOffset,
                ByteBuffer.allocate(8)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(0, value)
                        .array());
    }

    /** Writes {@code bytes} page by page, marking dirty only the pages whose content changes. */
    void writeChanged(long fileOffset, byte[] bytes) throws IOException {
        for (int at = 0; at < bytes.length; at += PAGE) {
            int n = Math.min(PAGE, bytes.length - at);
            byte[] current = new byte[n];
            read(fileOffset + at, n).get(current);
            byte[] wanted = Arrays.copyOfRange(bytes, at, at + n);
            if (!Arrays.equals(current, wanted)) {
                write(fileOffset + at, wanted);
            }
        }
    }

    boolean hasDirty() {
        return !dirty.isEmpty();
    }

    int dirtyCount() {
        return dirty.size();
    }

    /** The dirty pages as log updates, in file order. */
    List<LogEntry.Update> dirtyUpdates() {
        List<LogEntry.Update> updates = new ArrayList<>(dirty.size());
        for (Map.Entry<Long, byte[]> entry : dirty.entrySet()) {
            updates.add(LogEntry.Update.data(entry.getKey(), entry.getValue()));
        }
        return updates;
    }

    /** The dirty pages are now in the file: they become clean cached pages. */
    void markCommitted() {
        cache.putAll(dirty);
        dirty.clear();
    }

    /** Forgets cached pages of a range written around the store (a block newly allocated over old space). */
    void invalidate(long fileOffset, long length) {
        cache.keySet().removeIf(page -> page + PAGE > fileOffset && page < fileOffset + length);
    }
}
