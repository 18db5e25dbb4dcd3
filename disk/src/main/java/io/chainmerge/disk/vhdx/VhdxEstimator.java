package io.chainmerge.disk.vhdx;

import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.SpaceEstimator;
import java.io.IOException;
import java.util.BitSet;

/**
 * How much a VHDX grows under a sequence of writes: the block decisions of {@link VhdxFile}'s writes,
 * with the allocations (blocks and sector bitmap blocks) counted instead of made.
 */
final class VhdxEstimator implements SpaceEstimator {
    private final VhdxFile file;
    private final long fileSize;
    private long allocationEnd;
    private long currentBlock = -1;
    private int currentState;
    private final BitSet chunksGivenBitmaps = new BitSet();

    VhdxEstimator(VhdxFile file, long fileSize, long nextFree) {
        this.file = file;
        this.fileSize = fileSize;
        this.allocationEnd = nextFree;
    }

    @Override
    public void add(long offset, long length, boolean zeros) throws IOException {
        file.checkRange(offset, length);
        int blockSize = file.geometry.blockSize();
        long end = offset + length;
        for (long block = offset / blockSize; block * blockSize < end; block++) {
            long blockStart = block * blockSize;
            long from = Math.max(offset, blockStart);
            long to = Math.min(end, blockStart + file.geometry.blockLength(block));
            if (block != currentBlock) {
                currentBlock = block;
                currentState = BatEntry.state(file.payloadEntry(block));
            }
            boolean wholeBlock = from == blockStart && to == blockStart + file.geometry.blockLength(block);
            BlockWrite action = BlockWrite.decide(currentState, file.type == DiskType.DIFFERENCING, zeros, wholeBlock);
            if (action == BlockWrite.ALLOCATE_PARTIAL) {
                long chunk = file.geometry.chunkOf(block);
                long bitmapEntry =
                        file.pages.readLong(file.batRegion.fileOffset() + file.geometry.bitmapEntryIndex(chunk) * 8);
                if (BatEntry.state(bitmapEntry) != BatEntry.BITMAP_PRESENT && !chunksGivenBitmaps.get((int) chunk)) {
                    chunksGivenBitmaps.set((int) chunk);
                    allocationEnd += BatGeometry.BITMAP_BLOCK_SIZE;
                }
            }
            if (action.allocates()) {
                allocationEnd += blockSize;
            }
            currentState = action.resultingState(currentState);
        }
    }

    @Override
    public long growthBytes() {
        return Math.max(0, allocationEnd - fileSize);
    }
}
