package io.chainmerge.disk.vhd;

import java.io.IOException;
import java.util.Arrays;

/**
 * The sector bitmap at the start of every block (VHD spec, "Block Allocation Table and Data Blocks"):
 * one bit per sector of the block, the most significant bit of byte 0 for the first sector, padded to a
 * 512-byte multiple. In a differencing disk a set bit means the sector is in this file, a clear one that
 * it is the parent's, and a clear bit's sector holds zeros in the file.
 */
final class SectorBitmap {

    @FunctionalInterface
    interface RunConsumer {
        /** A run of set bits: the first sector and the number of sectors. */
        void accept(int first, int count) throws IOException;
    }

    private final byte[] bits;

    SectorBitmap(byte[] bits) {
        this.bits = bits;
    }

    /** The bytes a block of {@code blockSize} starts with: a bit per sector, rounded up to 512 bytes. */
    static int sizeFor(int blockSize) {
        int bytes = (blockSize / VhdFile.SECTOR_SIZE + 7) / 8;
        return (bytes + VhdFile.SECTOR_SIZE - 1) / VhdFile.SECTOR_SIZE * VhdFile.SECTOR_SIZE;
    }

    static SectorBitmap clear(int size) {
        return new SectorBitmap(new byte[size]);
    }

    /** Every bit set, padding included, as qemu and chainmerge give a new block of a dynamic disk. */
    static SectorBitmap full(int size) {
        byte[] bits = new byte[size];
        Arrays.fill(bits, (byte) 0xff);
        return new SectorBitmap(bits);
    }

    boolean isSet(int sector) {
        return (bits[sector >>> 3] & (0x80 >>> (sector & 7))) != 0;
    }

    boolean allSet(int first, int count) {
        for (int sector = first; sector < first + count; sector++) {
            if (!isSet(sector)) {
                return false;
            }
        }
        return true;
    }

    void set(int first, int count) {
        for (int sector = first; sector < first + count; sector++) {
            bits[sector >>> 3] |= (byte) (0x80 >>> (sector & 7));
        }
    }

    /** Calls {@code consumer} for each run of set bits within {@code [first, first + count)}, in order. */
    void forEachRun(int first, int count, RunConsumer consumer) throws IOException {
        int end = first + count;
        int sector = first;
        while (sector < end) {
            while (sector < end && !isSet(sector)) {
                sector++;
            }
            int start = sector;
            while (sector < end && isSet(sector)) {
                sector++;
            }
            if (sector > start) {
                consumer.accept(start, sector - start);
            }
        }
    }

    byte[] bytes() {
        return bits;
    }

    SectorBitmap copy() {
        return new SectorBitmap(bits.clone());
    }
}
