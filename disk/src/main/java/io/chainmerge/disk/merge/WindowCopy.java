package io.chainmerge.disk.merge;

import io.chainmerge.disk.Extent;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.ChainOverlay;
import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.io.DiskChannel;
import io.chainmerge.disk.io.LockScope;
import io.chainmerge.disk.io.Zeros;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Walks the virtual disk in large windows, asking {@link ChainOverlay} which level defines each
 * piece, for estimating and for copying. Memory is one chunk, whatever the size of the disk; the
 * target is committed after every window, so a crash loses at most one window's work, and a {@link
 * WriteBehind} thread flushes what is written while the copy goes on.
 */
final class WindowCopy {
    /**
     * Large enough for sequential throughput (interleaved A/B runs of 2 GiB merges: 64 MiB windows
     * 8 % slower, 1 GiB no faster), small enough that one window's metadata fits one log entry and a
     * crash redoes little. {@value Merge#WINDOW_PROPERTY} overrides it, for tests only.
     */
    static final int MIN_WINDOW = 256 << 20;

    /**
     * The most bytes read and written in one go within a window: progress is reported, and a stop is
     * heard, after each, so both stay timely under a low rate limit.
     */
    static final int CHUNK = 8 << 20;

    @FunctionalInterface
    interface PieceConsumer {
        void accept(ChainOverlay.Piece piece) throws IOException;
    }

    private WindowCopy() {}

    /** A window that is a multiple of every block size involved (they are powers of two). */
    static int windowFor(List<? extends VirtualDisk> disks) {
        int window = Integer.getInteger(Merge.WINDOW_PROPERTY, MIN_WINDOW);
        if (Integer.bitCount(window) != 1) {
            throw new IllegalArgumentException(Merge.WINDOW_PROPERTY + " must be a power of two: " + window);
        }

        for (VirtualDisk disk : disks) {
            window = Math.max(window, disk.blockSize());
        }
        return window;
    }

    /** Every piece the levels define, in order, window by window. */
    static void forEachPiece(List<? extends VirtualDisk> levels, long virtualSize, int window, PieceConsumer consumer)
            throws IOException {
        for (long offset = 0; offset < virtualSize; offset += window) {
            for (ChainOverlay.Piece piece :
                    ChainOverlay.resolve(levels, offset, Math.min(window, virtualSize - offset))) {
                consumer.accept(piece);
            }
        }
    }

    /** What a copy did: data bytes copied (or found to be zeros and skipped), and bytes made zeros. */
    record Copied(long dataBytes, long zeroBytes) {}

    /**
     * Copies what {@code levels} define into {@code target}. A {@code sparseTarget} is a new root
     * that already reads zeros everywhere: zero pieces and all-zero data are skipped rather than
     * written.
     */
    static Copied copy(
            List<? extends VirtualDisk> levels,
            long virtualSize,
            VirtualDisk target,
            boolean sparseTarget,
            Throttle throttle,
            MergeProgress progress,
            long totalBytes)
            throws IOException {
        int window = windowFor(concat(levels, target));
        // Aligned, so whole-block writes can go past the page cache (DiskChannel).
        ByteBuffer buffer =
                ByteBuffer.allocateDirect(CHUNK + DiskChannel.DIRECT_ALIGN).alignedSlice(DiskChannel.DIRECT_ALIGN);
        long data = 0;
        long zeros = 0;
        try (WriteBehind writeBehind = new WriteBehind(target)) {
            for (long offset = 0; offset < virtualSize; offset += window) {
                stopIfCancelled(progress, target, offset, virtualSize);
                LockScope.requireClaims(); // another host took the chain over while this one was paused
                for (ChainOverlay.Piece piece :
                        ChainOverlay.resolve(levels, offset, Math.min(window, virtualSize - offset))) {
                    Extent extent = piece.extent();
                    if (extent.isZero()) {
                        if (!sparseTarget) {
                            target.writeZeros(extent.offset(), extent.length());
                            writeBehind.request();
                        }
                        zeros += extent.length();
                        continue;
                    }
                    for (long done = 0; done < extent.length(); done += CHUNK) {
                        int length = (int) Math.min(CHUNK, extent.length() - done);
                        throttle.acquire(length);
                        buffer.clear().limit(length);
                        levels.get(piece.level()).readStored(extent.fileOffset() + done, buffer);
                        buffer.flip();
                        if (!sparseTarget || !Zeros.isAllZero(buffer)) {
                            target.write(extent.offset() + done, buffer);
                            writeBehind.request();
                        }
                        data += length;
                        progress.update(data, totalBytes);
                        stopIfCancelled(progress, target, extent.offset() + done + length, virtualSize);
                    }
                }
                target.commit();
                CrashPoints.reach("merge.window-committed");
                progress.update(data, totalBytes);
            }
        }
        return new Copied(data, zeros);
    }

    /**
     * Commits what is written and stops, when asked to: the copy rewrites the same bytes when run
     * again, so any committed prefix is a consistent place to stop.
     */
    private static void stopIfCancelled(MergeProgress progress, VirtualDisk target, long position, long virtualSize)
            throws IOException {
        if (progress.cancelled()) {
            target.commit();
            throw new InterruptedIOException(
                    "stopped at " + position + " of " + virtualSize + "; run the same merge again to finish it");
        }
    }

    private static List<VirtualDisk> concat(List<? extends VirtualDisk> levels, VirtualDisk target) {
        List<VirtualDisk> all = new java.util.ArrayList<>(levels);
        all.add(target);
        return all;
    }
}
