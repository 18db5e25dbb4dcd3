package io.chainmerge.disk.vhd;

import io.chainmerge.disk.io.DiskChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.BitSet;

/**
 * The BAT (VHD spec, "Block Allocation Table and Data Blocks"): for each block, the sector its bitmap
 * starts at, all ones when the block is not in the file. Held in memory (4 bytes a block); entries a
 * write sets stay pending here until the data they point at is flushed.
 */
final class BlockAllocationTable {
    static final long UNUSED = 0xFFFF_FFFFL;
    private static final int READ_PIECE = 1 << 20;

    private final long tableOffset;
    private final int[] entries;
    private final BitSet pending = new BitSet();

    private BlockAllocationTable(long tableOffset, int[] entries) {
        this.tableOffset = tableOffset;
        this.entries = entries;
    }

    static BlockAllocationTable read(DiskChannel channel, long tableOffset, int count) throws IOException {
        int[] entries = new int[count];
        for (int done = 0; done < count; ) {
            int n = Math.min(count - done, READ_PIECE / 4);
            ByteBuffer piece = ByteBuffer.allocate(n * 4).order(ByteOrder.BIG_ENDIAN);
            channel.readFully(piece, tableOffset + done * 4L, "BAT");
            piece.flip().asIntBuffer().get(entries, done, n);
            done += n;
        }
        return new BlockAllocationTable(tableOffset, entries);
    }

    /** The bytes a BAT of {@code count} entries takes: "always extended to a sector boundary" (VHD spec). */
    static long bytesFor(long count) {
        return (count * 4 + VhdFile.SECTOR_SIZE - 1) / VhdFile.SECTOR_SIZE * VhdFile.SECTOR_SIZE;
    }

    /** The bytes of a new, empty BAT of {@code count} entries, padded with all ones. */
    static ByteBuffer empty(long count) {
        ByteBuffer table = ByteBuffer.allocate((int) bytesFor(count));
        Arrays.fill(table.array(), (byte) 0xff);
        return table;
    }

    int size() {
        return entries.length;
    }

    boolean isAllocated(long block) {
        return entries[(int) block] != (int) UNUSED;
    }

    /** The sector the block's bitmap starts at; only for an allocated block. */
    long sectorOf(long block) {
        return entries[(int) block] & 0xFFFF_FFFFL;
    }

    void set(long block, long sector) {
        entries[(int) block] = (int) sector;
        pending.set((int) block);
    }

    boolean hasPending() {
        return !pending.isEmpty();
    }

    /** Writes the sectors of the table that hold pending entries, adjacent sectors in one write. */
    void writePending(DiskChannel channel) throws IOException {
        int perSector = VhdFile.SECTOR_SIZE / 4;
        int entry = pending.nextSetBit(0);
        while (entry >= 0) {
            int first = entry / perSector * perSector;
            int end = Math.min(first + perSector, entries.length);
            int next = pending.nextSetBit(end);
            while (next >= 0 && next < end + perSector) {
                end = Math.min(end + perSector, entries.length);
                next = pending.nextSetBit(end);
            }
            ByteBuffer piece = ByteBuffer.allocate((end - first) * 4).order(ByteOrder.BIG_ENDIAN);
            piece.asIntBuffer().put(entries, first, end - first);
            channel.writeFully(piece, tableOffset + first * 4L);
            entry = next;
        }
        pending.clear();
    }

    long allocatedCount() {
        long count = 0;
        for (int value : entries) {
            if (value != (int) UNUSED) {
                count++;
            }
        }
        return count;
    }
}
