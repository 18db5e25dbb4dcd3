package io.chainmerge.disk.io;

import com.sun.nio.file.ExtendedOpenOption;
import io.chainmerge.disk.Access;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * The disk files this process has open, one channel and one lock per file.
 *
 * <p>It is process-wide on purpose: POSIX record locks belong to the process, and closing <em>any</em>
 * descriptor of a file drops every lock the process holds on it. A scan that opened and closed a file a
 * merge in another thread had locked would silently unlock it; sharing the one channel prevents that,
 * and an open that takes a lock waits for a lock-free peek at the file to end first.
 */
final class OpenFileTable {

    private static final Map<Path, Entry> OPEN = new HashMap<>();

    private static final class Entry {
        final FileChannel channel;
        final FileLock lock; // null for a peek
        final Access access;
        /** A second descriptor for large aligned data writes past the page cache; null where none. */
        final FileChannel direct;

        int references = 1;

        Entry(FileChannel channel, FileLock lock, Access access, FileChannel direct) {
            this.channel = channel;
            this.lock = lock;
            this.access = access;
            this.direct = direct;
        }
    }

    private OpenFileTable() {}

    static synchronized FileChannel acquire(Path realPath, Access access) throws IOException {
        Entry existing = OPEN.get(realPath);
        while (existing != null && existing.lock == null && access != Access.PEEK) {
            try {
                OpenFileTable.class.wait(); // a scan is reading the file's headers: it is brief
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted waiting for a scan of " + realPath);
            }
            existing = OPEN.get(realPath);
        }
        if (existing != null) {
            if (access == Access.WRITE) {
                throw new GuardRefusal(
                        Guard.IN_USE,
                        realPath,
                        realPath + ": in use: already open "
                                + (existing.access == Access.WRITE ? "for writing" : "for reading")
                                + " by another operation of this process");
            }
            existing.references++;
            return existing.channel;
        }
        FileChannel channel = access == Access.WRITE
                ? FileChannel.open(realPath, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(realPath, StandardOpenOption.READ);
        FileLock lock = null;
        if (access != Access.PEEK) {
            try {
                lock = channel.tryLock(0, Long.MAX_VALUE, access == Access.READ);
            } catch (OverlappingFileLockException | IOException e) {
                channel.close();
                throw e instanceof IOException io ? io : new IOException(e);
            }
            if (lock == null) {
                channel.close();
                throw new GuardRefusal(
                        Guard.IN_USE,
                        realPath,
                        realPath + ": in use: another process holds a lock on it (a running merge, or a VM)");
            }
        }
        OPEN.put(realPath, new Entry(channel, lock, access, access == Access.WRITE ? openDirect(realPath) : null));
        return channel;
    }

    /**
     * The file's O_DIRECT descriptor, if it is open for writing and its file system takes O_DIRECT
     * (tmpfs does not). It lives and dies with the file's entry: closing it on its own would drop the
     * process's lock.
     */
    static synchronized FileChannel direct(Path realPath) {
        Entry entry = OPEN.get(realPath);
        return entry == null ? null : entry.direct;
    }

    private static FileChannel openDirect(Path realPath) {
        try {
            return FileChannel.open(realPath, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
        } catch (IOException | UnsupportedOperationException e) {
            return null; // buffered writes, as everywhere else
        }
    }

    static synchronized void release(Path realPath) throws IOException {
        Entry entry = OPEN.get(realPath);
        if (entry == null || --entry.references > 0) {
            return;
        }
        OPEN.remove(realPath);
        try {
            if (entry.lock != null && entry.channel.isOpen()) {
                entry.lock.release();
            }
        } finally {
            if (entry.direct != null) {
                entry.direct.close();
            }
            entry.channel.close();
            OpenFileTable.class.notifyAll();
        }
    }

    static synchronized boolean isOpen(Path realPath) {
        return OPEN.containsKey(realPath);
    }
}
