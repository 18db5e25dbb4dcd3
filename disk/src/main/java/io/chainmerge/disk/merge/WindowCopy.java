package io.chainmerge.disk.merge;

import io.chainmerge.disk.Extent;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.ChainOverlay;
import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.io.LockScope;
import io.chainmerge.disk.io.ReadAhead;
import io.chainmerge.disk.io.Zeros;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Walks the virtual disk in large windows, asking {@link ChainOverlay} which level defines each
 * piece, for estimating and for copying. Memory is {@link ReadAhead#DEPTH} chunks, whatever the size
 * of the disk; the target is committed after every window, so a crash loses at most one window's
 * work, and a {@link WriteBehind} thread flushes what is written while the copy goes on.
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
     *
     * <p>A {@link ReadAhead} thread resolves the pieces and reads the chunks ahead, {@link
     * ReadAhead#DEPTH} at most, while this thread writes; the sources are that thread's alone until it
     * stops, the target this thread's. Each window is committed here once every write of it has
     * returned, so what a crash can find is what it found with one buffer: committed windows, and
     * uncommitted writes of the window under way that the run redoes.
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
        long data = 0;
        long zeros = 0;
        try (WriteBehind writeBehind = new WriteBehind(target);
                ReadAhead<Step> reads = new ReadAhead<>(
                        "chainmerge-read-ahead " + target.path().getFileName(),
                        ReadAhead.DEPTH,
                        CHUNK,
                        output -> readWindows(levels, virtualSize, window, output))) {
            for (Step step = reads.next(); step != null; step = reads.next()) {
                if (step instanceof WindowStart start) {
                    stopIfCancelled(progress, target, start.offset(), virtualSize);
                    LockScope.requireClaims(); // another host took the chain over while this one was paused
                } else if (step instanceof ZeroRun run) {
                    if (!sparseTarget) {
                        target.writeZeros(run.offset(), run.length());
                        writeBehind.request();
                    }
                    zeros += run.length();
                } else if (step instanceof Chunk chunk) {
                    ByteBuffer buffer = chunk.buffer();
                    int length = buffer.remaining();
                    throttle.acquire(length);
                    if (!sparseTarget || !Zeros.isAllZero(buffer)) {
                        target.write(chunk.offset(), buffer);
                        writeBehind.request();
                    }
                    reads.release(buffer);
                    data += length;
                    progress.update(data, totalBytes);
                    stopIfCancelled(progress, target, chunk.offset() + length, virtualSize);
                } else {
                    target.commit(); // WindowEnd: every write of the window has returned
                    CrashPoints.reach("merge.window-committed");
                    progress.update(data, totalBytes);
                }
            }
        }
        return new Copied(data, zeros);
    }

    /** What the reader hands the writer, in the order the copy does it. */
    private sealed interface Step {}

    /** A window begins: the writer checks for a stop and for its claims first. */
    private record WindowStart(long offset) implements Step {}

    /** Virtual bytes the levels define as zeros. */
    private record ZeroRun(long offset, long length) implements Step {}

    /** Data read from a level, to be written at {@code offset} of the virtual disk. */
    private record Chunk(long offset, ByteBuffer buffer) implements Step {}

    /** Every write of the window has been handed over: the writer commits. */
    private record WindowEnd() implements Step {}

    /** The reader thread's work: every window's pieces, data read in chunks. */
    private static void readWindows(
            List<? extends VirtualDisk> levels, long virtualSize, int window, ReadAhead.Output<Step> output)
            throws IOException {
        for (long offset = 0; offset < virtualSize; offset += window) {
            output.emit(new WindowStart(offset));
            for (ChainOverlay.Piece piece :
                    ChainOverlay.resolve(levels, offset, Math.min(window, virtualSize - offset))) {
                Extent extent = piece.extent();
                if (extent.isZero()) {
                    output.emit(new ZeroRun(extent.offset(), extent.length()));
                    continue;
                }
                for (long done = 0; done < extent.length(); done += CHUNK) {
                    int length = (int) Math.min(CHUNK, extent.length() - done);
                    ByteBuffer buffer = output.buffer().limit(length);
                    levels.get(piece.level()).readStored(extent.fileOffset() + done, buffer);
                    output.emit(new Chunk(extent.offset() + done, buffer.flip()));
                }
            }
            output.emit(new WindowEnd());
        }
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
