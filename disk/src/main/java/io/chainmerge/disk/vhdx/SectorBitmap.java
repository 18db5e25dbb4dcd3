package io.chainmerge.disk.vhdx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;

/**
 * Bits of a sector bitmap block (MS-VHDX 2.4): bit 0 of byte 0 is the chunk's first sector, and a set
 * bit means the sector's data is in this file. Read and changed a range at a time, through the page
 * store, so uncommitted changes are seen and changes go through the log.
 */
final class SectorBitmap {

    @FunctionalInterface
    interface RunConsumer {
        /** A run of set bits, as bit positions relative to the first bit asked for. */
        void accept(long start, long length) throws IOException;
    }

    private SectorBitmap() {}

    static void forEachRun(PageStore pages, long bitmapOffset, long firstBit, int bitCount, RunConsumer consumer)
            throws IOException {
        long firstByte = firstBit / 8;
        int shift = (int) (firstBit % 8);
        int byteCount = (shift + bitCount + 7) / 8;
        BitSet bits = BitSet.valueOf(pages.read(bitmapOffset + firstByte, byteCount));
        int end = shift + bitCount;
        int start = bits.nextSetBit(shift);
        while (start >= 0 && start < end) {
            int stop = Math.min(bits.nextClearBit(start), end);
            consumer.accept(start - shift, stop - start);
            start = bits.nextSetBit(stop);
        }
    }

    static void setRange(PageStore pages, long bitmapOffset, long firstBit, long bitCount) throws IOException {
        long firstByte = firstBit / 8;
        int shift = (int) (firstBit % 8);
        int byteCount = (int) ((shift + bitCount + 7) / 8);
        ByteBuffer current = pages.read(bitmapOffset + firstByte, byteCount);
        BitSet bits = BitSet.valueOf(current);
        bits.set(shift, (int) (shift + bitCount));
        byte[] updated = new byte[byteCount];
        byte[] packed = bits.toByteArray();
        System.arraycopy(packed, 0, updated, 0, packed.length);
        pages.write(bitmapOffset + firstByte, updated);
    }
}
