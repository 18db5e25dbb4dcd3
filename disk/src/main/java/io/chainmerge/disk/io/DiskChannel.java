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
    /** The alignment O_DIRECT asks for on any device here (4 KiB covers 512-byte and 4K sectors). */
    public static final int DIRECT_ALIGN = 4096;

    private static final int DIRECT_MIN = 1 << 20;

    private final Path path;
    private final Access access;
    private final FileChannel channel;
    /**
     * Takes large aligned data reads and writes past the page cache, when the file system allows; else
     * null. Past it, a copy neither waits for the kernel's read-ahead nor evicts what the host's
     * virtual machines keep cached; the kernel writes back cached dirty pages of a range before it
     * reads that range directly, so both paths read the same bytes.
     */
    private final FileChannel direct;
    /** This open's share of the process's one entry for the file; null for a channel opened elsewhere. */
    private final OpenFileTable.Lease lease;

    private boolean closed;
    private IOException flushFailure;

    /** Over a channel opened elsewhere; {@link #open} is the way for disk files. */
    DiskChannel(Path path, Access access, FileChannel channel) {
        this(path, access, channel, null, null);
    }

    private DiskChannel(Path path, Access access, FileChannel channel, FileChannel direct, OpenFileTable.Lease lease) {
        this.path = path;
        this.access = access;
        this.channel = channel;
        this.direct = direct;
        this.lease = lease;
    }

    /**
     * Opens and locks the file: shared for {@link Access#READ}, exclusive for {@link Access#WRITE}, not at
     * all for {@link Access#PEEK}; inside a {@link LockScope} as the scope locks.
     */
    public static DiskChannel open(Path file, Access access) throws IOException {
        OpenFileTable.RealFile real = OpenFileTable.realRegularFile(file);
        OpenFileTable.Lease lease = OpenFileTable.acquire(real, access);
        return new DiskChannel(real.path(), access, lease.channel(), lease.direct(), lease);
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
            int n = readOnce(destination, at);
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
            int n = readOnce(destination, at);
            if (n < 0) {
                break;
            }
            total += n;
            at += n;
        }
        return total;
    }

    /**
     * One read, past the page cache when {@link #goesDirect} allows: a short read at the end of the
     * file leaves the rest unaligned, so the next read of the loop goes through the cache.
     */
    private int readOnce(ByteBuffer destination, long position) throws IOException {
        return (goesDirect(destination, position) ? direct : channel).read(destination, position);
    }

    public void writeFully(ByteBuffer source, long position) throws IOException {
        requireWritable();
        FileChannel target = goesDirect(source, position) ? direct : channel;
        long at = position;
        while (source.hasRemaining()) {
            at += target.write(source, at);
        }
    }

    /** Whether large aligned writes go past the page cache (the file system takes O_DIRECT). */
    boolean writesDirect() {
        return direct != null && access == Access.WRITE;
    }

    /** Whether large aligned reads go past the page cache (the file system takes O_DIRECT). */
    boolean readsDirect() {
        return direct != null;
    }

    /**
     * Whether a read or write goes past the page cache: large, and aligned in memory, in the file and
     * in length to what O_DIRECT needs. Such writes still need {@link #force()} to be durable.
     */
    private boolean goesDirect(ByteBuffer buffer, long position) {
        return direct != null && fitsDirect(buffer, position);
    }

    /** Whether O_DIRECT takes {@code buffer} at {@code position}, and it is large enough to gain by it. */
    static boolean fitsDirect(ByteBuffer buffer, long position) {
        int length = buffer.remaining();
        return buffer.isDirect()
                && length >= DIRECT_MIN
                && length % DIRECT_ALIGN == 0
                && position % DIRECT_ALIGN == 0
                && buffer.alignmentOffset(buffer.position(), DIRECT_ALIGN) == 0;
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
            if (lease != null) {
                OpenFileTable.release(lease);
            }
        }
    }
}
