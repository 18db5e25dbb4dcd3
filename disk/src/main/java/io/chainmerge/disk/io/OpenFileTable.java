package io.chainmerge.disk.io;

import com.sun.nio.file.ExtendedOpenOption;
import io.chainmerge.disk.Access;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import io.chainmerge.disk.UnsupportedDiskException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The disk files this process has open, one channel and one lock per file, shared by every reader and
 * writer of the file in the process. Nothing else in chainmerge opens a disk file (ArchitectureTest).
 *
 * <p>It is process-wide on purpose: POSIX record locks belong to the process, and closing <em>any</em>
 * descriptor of a file drops every lock the process holds on it. A scan that opened and closed a file a
 * merge in another thread had locked would silently unlock it; sharing the one channel prevents that,
 * and an open that takes a lock waits for a lock-free peek at the file to end first.
 *
 * <p>Files are known by their file key (device and inode), not their name: a file renamed, linked or
 * reached by another path is still the one entry, and a deleted file a scope still holds never stands
 * for a new file of the same name.
 *
 * <p>Each open is one {@link Lease} of an entry, by a holder: the {@link LockScope} open on the thread,
 * or the open alone. Holders of one entry must agree: any number of readers, or one operation that
 * writes. A scope also keeps one reference of its own to every entry it locks, until it closes.
 */
final class OpenFileTable {

    private static final Map<Object, Entry> OPEN = new HashMap<>();

    /**
     * Off ({@code -Dchainmerge.locks.posix=off}) only in tests that play two hosts on one machine, whose
     * shared mount keeps POSIX locks on each host: claims alone then keep writers apart.
     */
    private static final boolean POSIX_LOCKS = !"off".equals(System.getProperty("chainmerge.locks.posix"));

    /** One open of a file: the shared channels and who opened it. Released once. */
    record Lease(Object key, FileChannel channel, FileChannel direct, Object holder) {}

    private static final class Entry {
        final FileChannel channel;
        final FileLock lock; // null for a peek, and where POSIX locks are switched off
        final Access access;
        /** What other hosts see of a file held for writing; null for reading. Follows renames. */
        ClaimFile claim;
        /** A second descriptor for large aligned data reads and writes past the page cache; null where none. */
        final FileChannel direct;
        /** Each holder with its number of open leases (a scope's own reference included). */
        final Map<Object, Integer> holders = new LinkedHashMap<>();

        Entry(FileChannel channel, FileLock lock, Access access, ClaimFile claim, FileChannel direct) {
            this.channel = channel;
            this.lock = lock;
            this.access = access;
            this.claim = claim;
            this.direct = direct;
        }
    }

    private OpenFileTable() {}

    /**
     * The real path of {@code file}, refused as an unsupported disk before anything opens it when it is
     * not a regular file: opening a FIFO for reading waits for a writer forever, and a directory, a
     * device or a socket is no disk chainmerge reads; nor is a loop of symbolic links.
     */
    static RealFile realRegularFile(Path file) throws IOException {
        Path real;
        try {
            real = file.toRealPath();
        } catch (FileSystemException e) {
            if (e.getReason() != null && e.getReason().contains("symbolic links")) {
                throw new UnsupportedDiskException(file, "its symbolic links form a loop (" + e.getReason() + ")");
            }
            throw e;
        }
        BasicFileAttributes attributes = Files.readAttributes(real, BasicFileAttributes.class);
        if (!attributes.isRegularFile()) {
            throw new UnsupportedDiskException(
                    file, "it is " + kindOf(real, attributes) + ", not a regular file; disks are read from files");
        }
        Object key = attributes.fileKey();
        return new RealFile(real, key != null ? key : real);
    }

    /** A regular file's real path, and its identity as the table keys it (see {@link #keyOf}). */
    record RealFile(Path path, Object key) {}

    private static String kindOf(Path real, BasicFileAttributes attributes) throws IOException {
        if (attributes.isDirectory()) {
            return "a directory";
        }
        // unix:mode's file type bits (sys/stat.h): FIFO, character and block device, socket
        int type = ((Integer) Files.getAttribute(real, "unix:mode")) & 0170000;
        return switch (type) {
            case 0010000 -> "a FIFO";
            case 0020000 -> "a character device";
            case 0060000 -> "a block device";
            case 0140000 -> "a socket";
            default -> "not a file";
        };
    }

    static synchronized Lease acquire(RealFile file, Access access) throws IOException {
        Path realPath = file.path();
        LockScope scope = access == Access.PEEK ? null : LockScope.current();
        Object holder = scope == null ? new Object() : scope;
        Object key = file.key();
        Entry entry = OPEN.get(key);
        while (entry != null && entry.access == Access.PEEK && access != Access.PEEK) {
            try {
                OpenFileTable.class.wait(); // a scan is reading the file's headers: it is brief
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted waiting for a scan of " + realPath);
            }
            key = keyOf(realPath);
            entry = OPEN.get(key);
        }
        if (entry != null) {
            if (access != Access.PEEK) {
                admit(entry, realPath, access, holder);
            }
        } else {
            entry = open(realPath, access, holder);
            OPEN.put(key, entry);
        }
        entry.holders.merge(holder, 1, Integer::sum);
        if (scope != null && scope.keep(key)) {
            entry.holders.merge(scope, 1, Integer::sum);
        }
        return new Lease(key, entry.channel, entry.direct, holder);
    }

    /** Lets {@code holder} share a locked entry: the same operation, or readers among readers. */
    private static void admit(Entry entry, Path realPath, Access access, Object holder) throws GuardRefusal {
        if (entry.holders.containsKey(holder)) {
            if (access == Access.WRITE && entry.access != Access.WRITE) {
                // Trading the shared lock for an exclusive one would let go of the file in between.
                throw new IllegalStateException(
                        "the %s locked %s for reading, so it cannot write it: hold it for writing first"
                                .formatted(holder, realPath));
            }
            return;
        }
        if (access == Access.READ && entry.access == Access.READ) {
            return;
        }
        List<String> operations = entry.holders.keySet().stream()
                .filter(LockScope.class::isInstance)
                .map(Object::toString)
                .toList();
        String by = operations.isEmpty() ? "another operation of this process" : "this process's " + operations.get(0);
        throw new GuardRefusal(
                Guard.IN_USE,
                realPath,
                "%s: in use: open for %s by %s"
                        .formatted(realPath, entry.access == Access.WRITE ? "writing" : "reading", by),
                Map.of("holder", by, "holderPid", ProcessHandle.current().pid()));
    }

    private static Entry open(Path realPath, Access access, Object holder) throws IOException {
        FileChannel channel = access == Access.WRITE
                ? FileChannel.open(realPath, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(realPath, StandardOpenOption.READ);
        FileLock lock = null;
        ClaimFile claim = null;
        try {
            if (access != Access.PEEK && POSIX_LOCKS) {
                lock = channel.tryLock(0, Long.MAX_VALUE, access == Access.READ);
                if (lock == null) {
                    throw LockHolders.refusal(realPath);
                }
            }
            if (access == Access.WRITE) {
                claim = ClaimFile.take(
                        realPath,
                        holder instanceof LockScope scope
                                ? scope.toString()
                                : "a write by "
                                        + ProcessHandle.current()
                                                .info()
                                                .command()
                                                .orElse("java"));
            }
        } catch (OverlappingFileLockException e) {
            channel.close();
            throw new IOException(e);
        } catch (IOException | RuntimeException e) {
            channel.close(); // closing releases the lock too
            throw e;
        }
        return new Entry(channel, lock, access, claim, access == Access.PEEK ? null : openDirect(realPath, access));
    }

    /**
     * The file's identity: device and inode where the file system has them (every Linux one does), else
     * its real path.
     */
    private static Object keyOf(Path realPath) throws IOException {
        Object key = Files.readAttributes(realPath, BasicFileAttributes.class).fileKey();
        return key != null ? key : realPath;
    }

    private static FileChannel openDirect(Path realPath, Access access) {
        try {
            return access == Access.WRITE
                    ? FileChannel.open(
                            realPath, StandardOpenOption.READ, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT)
                    : FileChannel.open(realPath, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
        } catch (IOException | UnsupportedOperationException e) {
            return null; // buffered reads and writes, as everywhere else
        }
    }

    static synchronized void release(Lease lease) throws IOException {
        releaseOne(lease.key(), lease.holder());
    }

    /** Releases the reference a scope kept of the entry {@code key}, as the scope closes. */
    static synchronized void releaseKept(Object key, LockScope scope) throws IOException {
        releaseOne(key, scope);
    }

    private static void releaseOne(Object key, Object holder) throws IOException {
        Entry entry = OPEN.get(key);
        if (entry == null) {
            return;
        }
        Integer left = entry.holders.computeIfPresent(holder, (h, n) -> n > 1 ? n - 1 : null);
        if (left != null || !entry.holders.isEmpty()) {
            return;
        }
        OPEN.remove(key);
        try {
            if (entry.claim != null) {
                entry.claim.release();
            }
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

    /**
     * Renames a file this process holds, its claim with it: the new name is claimed before the rename
     * (refused, changing nothing, when another host claims it), the old claim released after, so other
     * hosts see the file claimed under whichever name it has.
     */
    static synchronized void rename(Path from, Path to) throws IOException {
        Entry entry = OPEN.get(keyOf(from.toRealPath()));
        if (entry == null || entry.claim == null) {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
            return;
        }
        Path target = to.toAbsolutePath().getParent().toRealPath().resolve(to.getFileName());
        ClaimFile renamed = ClaimFile.take(target, entry.claim.operation());
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            renamed.release();
            throw e;
        }
        ClaimFile old = entry.claim;
        entry.claim = renamed;
        old.release();
    }

    /** Why the claim on the entry {@code key} was lost while held, or null while it holds (or has none). */
    static synchronized String claimLost(Object key) {
        Entry entry = OPEN.get(key);
        return entry == null || entry.claim == null ? null : entry.claim.lost();
    }

    static synchronized boolean isOpen(Path realPath) throws IOException {
        return OPEN.containsKey(keyOf(realPath));
    }
}
