package io.chainmerge.disk.vhdx;

import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.io.StructReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The File Parameters metadata item (MS-VHDX 2.6.2.1). */
record FileParameters(int blockSize, boolean leaveBlocksAllocated, boolean hasParent) {
    static final int SIZE = 8;

    static FileParameters parse(StructReader item) throws CorruptDiskException {
        long blockSize = item.u32(0, "BlockSize");
        item.require(
                blockSize >= Layout.MIN_BLOCK_SIZE
                        && blockSize <= Layout.MAX_BLOCK_SIZE
                        && Long.bitCount(blockSize) == 1,
                0,
                "BlockSize",
                "block size " + blockSize + " is not a power of 2 from 1 MiB to 256 MiB");
        long flags = item.u32(4, "Flags");
        return new FileParameters((int) blockSize, (flags & 1) != 0, (flags & 2) != 0);
    }

    byte[] encode() {
        ByteBuffer raw = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        raw.putInt(0, blockSize);
        raw.putInt(4, (leaveBlocksAllocated ? 1 : 0) | (hasParent ? 2 : 0));
        return raw.array();
    }
}
