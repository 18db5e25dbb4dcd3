package io.chainmerge.disk.vhd;

import io.chainmerge.disk.SpaceEstimator;
import java.io.IOException;
import java.util.BitSet;

/**
 * How much a dynamic or differencing VHD grows under a sequence of writes, decided block by block as
 * {@link VhdFile}'s writes decide them, with the allocations counted instead of made: the same
 * decisions and placements as its writes, so the file grows by exactly what is predicted.
 */
final class VhdEstimator implements SpaceEstimator {
    private final VhdFile file;
    private final long baseSize;
    private long allocationEnd;
    private boolean allocates;
    private final BitSet allocated = new BitSet();

    VhdEstimator(VhdFile file, long baseSize, long nextFree) {
        this.file = file;
        this.baseSize = baseSize;
        this.allocationEnd = nextFree;
    }

    @Override
    public void add(long offset, long length, boolean zeros) throws IOException {
        file.checkRange(offset, length);
        int blockSize = file.blocks.blockSize();
        long end = offset + length;
        for (long block = offset / blockSize; block * blockSize < end; block++) {
            boolean present = file.bat().isAllocated(block) || allocated.get((int) block);
            if (BlockWrite.decide(present, file.differencing(), zeros) == BlockWrite.ALLOCATE) {
                allocationEnd = VhdFile.place(allocationEnd, file.blocks.bitmapSize(), VhdFile.DATA_ALIGNMENT)
                        + file.blocks.blockTotal();
                allocated.set((int) block);
                allocates = true;
            }
        }
    }

    @Override
    public long growthBytes() {
        return allocates ? Math.max(0, allocationEnd + VhdFooter.SIZE - baseSize) : 0;
    }
}
