package io.chainmerge.disk.io;

import io.chainmerge.disk.Access;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * A disk file's raw bytes under this process's lock on it, for copying the file as it is (a
 * transplant, and the copy it writes). It goes through the one table of open files, so it shares the channel and the lock a
 * chain open in this process already holds; closing it never drops a lock another operation relies on.
 */
public final class LockedFile implements Closeable {
    /** The chunk of a read-ahead over the file: as a merge copies. */
    private static final int CHUNK = 8 << 20;

    private final Path path;
    private final OpenFileTable.Lease lease;
    private final FileChannel channel;
    /** For large aligned reads past the page cache (the source of a transplant's copy); null where none. */
    private final FileChannel direct;

    private boolean closed;

    private LockedFile(Path path, OpenFileTable.Lease lease) {
        this.path = path;
        this.lease = lease;
        this.channel = lease.channel();
        this.direct = lease.direct();
    }

    /**
     * Opens {@code file} with a shared ({@link Access#READ}) or exclusive ({@link Access#WRITE}) lock;
     * refused with the {@code in-use} guard when another process, or another operation of this one,
     * holds a lock that conflicts.
     */
    public static LockedFile open(Path file, Access access) throws IOException {
        if (access == Access.PEEK) {
            throw new IllegalArgumentException("a locked file is opened for reading or writing");
        }
        OpenFileTable.RealFile real = OpenFileTable.realRegularFile(file);
        return new LockedFile(real.path(), OpenFileTable.acquire(real, access));
    }

    public Path path() {
        return path;
    }

    public long size() throws IOException {
        return channel.size();
    }

    /** Reads from {@code position}; -1 at the end of the file. */
    public int read(ByteBuffer destination, long position) throws IOException {
        return channel.read(destination, position);
    }

    /** Writes all of {@code source} at {@code position}; the file is open for writing. */
    public void write(ByteBuffer source, long position) throws IOException {
        long at = position;
        while (source.hasRemaining()) {
            at += channel.write(source, at);
        }
    }

    public void truncate(long size) throws IOException {
        channel.truncate(size);
    }

    /** Makes every byte written durable, through this lock's channel. */
    public void force() throws IOException {
        channel.force(true);
    }

    /**
     * The SHA-256 of the file's bytes (lower-case hex), read through this lock's channel: opening the file
     * again and closing it would drop every lock this process holds on it.
     */
    public String sha256() throws IOException {
        MessageDigest digest = Sha256.newDigest();
        // Through the page cache: a transplant checks the copy it has just written through it.
        try (ReadAhead<ByteBuffer> reads = new ReadAhead<>(
                "chainmerge-digest " + path.getFileName(),
                ReadAhead.DEPTH,
                CHUNK,
                output -> readAll(output, channel))) {
            for (ByteBuffer buffer = reads.next(); buffer != null; buffer = reads.next()) {
                digest.update(buffer);
                reads.release(buffer);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * Reads every byte of the file from its start, in order, a buffer of {@code output} at a time (a
     * {@link ReadAhead}'s reader), past the page cache where the file system allows: what a copy of a
     * cold file reads once is not worth evicting a host's cache for.
     */
    public void readAll(ReadAhead.Output<ByteBuffer> output) throws IOException {
        readAll(output, direct != null ? direct : channel);
    }

    private void readAll(ReadAhead.Output<ByteBuffer> output, FileChannel from) throws IOException {
        long position = 0;
        while (true) {
            ByteBuffer buffer = output.buffer();
            while (buffer.hasRemaining()) {
                long at = position + buffer.position();
                // The file's last piece is rarely a whole number of pages, which O_DIRECT needs.
                FileChannel source = from == direct && !DiskChannel.fitsDirect(buffer, at) ? channel : from;
                if (source.read(buffer, at) < 0) {
                    break;
                }
            }
            if (buffer.position() == 0) {
                return;
            }
            position += buffer.position();
            output.emit(buffer.flip());
        }
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            OpenFileTable.release(lease);
        }
    }
}
