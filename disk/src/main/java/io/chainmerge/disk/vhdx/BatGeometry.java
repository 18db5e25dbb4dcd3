package io.chainmerge.disk.vhdx;

/**
 * Where each block's entry sits in the BAT (MS-VHDX 2.5): after every {@code chunkRatio} payload
 * entries comes the sector-bitmap entry of that chunk.
 */
record BatGeometry(long virtualSize, int blockSize, int logicalSectorSize, boolean differencing) {

    /** Sectors described by one 1 MiB sector-bitmap block (MS-VHDX 2.4). */
    static final long SECTORS_PER_BITMAP_BLOCK = 1L << 23;

    static final int BITMAP_BLOCK_SIZE = (int) Layout.MIB;

    long chunkRatio() {
        return SECTORS_PER_BITMAP_BLOCK * logicalSectorSize / blockSize;
    }

    long payloadBlocks() {
        return (virtualSize + blockSize - 1) / blockSize;
    }

    long bitmapBlocks() {
        return (payloadBlocks() + chunkRatio() - 1) / chunkRatio();
    }

    /** Entries the BAT must hold: differencing disks end with the last chunk's bitmap entry. */
    long totalEntries() {
        return differencing
                ? bitmapBlocks() * (chunkRatio() + 1)
                : payloadBlocks() + (payloadBlocks() - 1) / chunkRatio();
    }

    long payloadEntryIndex(long block) {
        return block + block / chunkRatio();
    }

    long bitmapEntryIndex(long chunk) {
        return chunk * (chunkRatio() + 1) + chunkRatio();
    }

    long chunkOf(long block) {
        return block / chunkRatio();
    }

    int sectorsPerBlock() {
        return blockSize / logicalSectorSize;
    }

    /** Bytes of the virtual disk block {@code block} covers (the last block may be short). */
    long blockLength(long block) {
        return Math.min(blockSize, virtualSize - block * blockSize);
    }

    /**
     * The bit index, within its chunk's sector-bitmap block, of the first sector of {@code block}
     * (bit 0 of byte 0 is the chunk's first sector).
     */
    long firstBitOf(long block) {
        return (block % chunkRatio()) * sectorsPerBlock();
    }
}
