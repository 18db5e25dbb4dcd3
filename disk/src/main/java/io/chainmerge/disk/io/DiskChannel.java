package io.chainmerge.disk.io;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.CorruptDiskException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A locked disk file: positional reads that either fill the buffer or report a truncated file, and
 * positional writes that write everything. No per-sector system calls: callers pass large buffers.
 */
public final class DiskChannel implements Closeable {
    private final Path path;
    private final Access access;
    private final FileChannel channel;
    private boolean closed;
    private IOException flushFailure;

    /** Over a channel opened elsewhere; {@link #open} is the way for disk files. */
    DiskChannel(Path path, Access access, FileChannel channel) {
        this.path = path;
        this.access = access;
        this.channel = channel;
    }

    /** Opens and locks the file: shared for {@link Access#READ}, exclusive for {@link Access#WRITE}. */
    public static DiskChannel open(Path file, Access access) throws IOException {
        Path real = file.toRealPath();
        return new DiskChannel(real, access, OpenFileTable.acquire(real, access));
    }

    /** Whether this process has the file open through a DiskChannel. */
    public static boolean isOpenInThisProcess(Path file) throws IOException {
        return OpenFileTable.isOpen(file.toRealPath());
    }

    /** The real path of the file (links resolved). */
    public Path path() {
        return path;
    }

    public boolean isWritable() {
        return access == Access.WRITE;
    }

    public long size() throws IOException {
        return channel.size();
    }

    /**
     * Fills {@code destination} from {@code position}; a file that ends first is truncated, and the
     * error names {@code structure}.
     */
    public void readFully(ByteBuffer destination, long position, String structure) throws IOException {
        long at = position;
        while (destination.hasRemaining()) {
            int n = channel.read(destination, at);
            if (n < 0) {
                throw new CorruptDiskException(
                        path,
                        position,
                        structure,
                        "the file is truncated: it ends at " + channel.size() + ", before this structure does");
            }
            at += n;
        }
    }

    /** Reads what the file holds from {@code position}, leaving the rest of the buffer untouched. */
    public int readAvailable(ByteBuffer destination, long position) throws IOException {
        int total = 0;
        long at = position;
        while (destination.hasRemaining()) {
            int n = channel.read(destination, at);
            if (n < 0) {
                break;
            }
            total += n;
            at += n;
        }
        return total;
    }

    public void writeFully(ByteBuffer source, long position) throws IOException {
        requireWritable();
        long at = position;
        while (source.hasRemaining()) {
            at += channel.write(source, at);
        }
    }

    /**
     * Flushes written data (and the file size) to the storage: nothing that depends on it may come first.
     *
     * <p>Safe to call from another thread while this one writes. Once a flush has failed, every later
     * one fails too: the kernel reports a writeback error to only one of the flushes of an open file,
     * and a flush on one thread must not swallow the error that another thread's commit depends on.
     */
    public synchronized void force() throws IOException {
        requireWritable();
        if (flushFailure != null) {
            throw new IOException(
                    path + ": an earlier flush failed; what it covered may not be on the storage", flushFailure);
        }
        try {
            channel.force(false);
        } catch (IOException e) {
            flushFailure = e;
            throw e;
        }
    }

    public FileChannel fileChannel() {
        return channel;
    }

    private void requireWritable() {
        if (access != Access.WRITE) {
            throw new IllegalStateException(path + " is open for reading only");
        }
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            OpenFileTable.release(path);
        }
    }
}
