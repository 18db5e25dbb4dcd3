package io.chainmerge.disk.vhd;

/**
 * How a dynamic or differencing disk divides into blocks: each is a sector bitmap followed by {@code
 * blockSize} bytes of data (VHD spec, "Block Allocation Table and Data Blocks").
 */
record BlockGeometry(long virtualSize, int blockSize) {

    long blocks() {
        return (virtualSize + blockSize - 1) / blockSize;
    }

    int bitmapSize() {
        return SectorBitmap.sizeFor(blockSize);
    }

    /** Bitmap and data: what a block takes in the file. */
    long blockTotal() {
        return bitmapSize() + (long) blockSize;
    }

    /** Bytes of the virtual disk block {@code block} covers (the last block may be short). */
    long blockLength(long block) {
        return Math.min(blockSize, virtualSize - block * blockSize);
    }
}
