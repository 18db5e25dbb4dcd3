package io.chainmerge.disk.chain;

import io.chainmerge.disk.Extent;
import io.chainmerge.disk.VirtualDisk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/** Reads the virtual disk a chain presents, as a virtual machine would see it. */
public final class ChainReader {
    private final List<VirtualDisk> levels;
    private final long virtualSize;

    public ChainReader(Chain chain) {
        this(chain.levels(), chain.virtualSize());
    }

    public ChainReader(List<VirtualDisk> levels, long virtualSize) {
        this.levels = levels;
        this.virtualSize = virtualSize;
    }

    public long virtualSize() {
        return virtualSize;
    }

    /** Fills {@code destination} with the virtual disk's bytes from {@code offset}. */
    public void read(long offset, ByteBuffer destination) throws IOException {
        int length = destination.remaining();
        if (offset < 0 || offset + length > virtualSize) {
            throw new IllegalArgumentException(
                    "[%d, +%d) is outside the virtual disk of %d bytes".formatted(offset, length, virtualSize));
        }
        int start = destination.position();
        ByteBuffer zeros = destination.duplicate();
        while (zeros.hasRemaining()) {
            zeros.put((byte) 0);
        }
        for (ChainOverlay.Piece piece : ChainOverlay.resolve(levels, offset, length)) {
            Extent extent = piece.extent();
            if (extent.isZero()) {
                continue;
            }
            int at = start + (int) (extent.offset() - offset);
            ByteBuffer slice =
                    destination.duplicate().limit(at + (int) extent.length()).position(at);
            levels.get(piece.level()).readStored(extent.fileOffset(), slice);
        }
        destination.position(start + length);
    }
}
