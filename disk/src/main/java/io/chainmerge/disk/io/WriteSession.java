package io.chainmerge.disk.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The writing state both format engines keep for one open file: whether it may be written at all, whether
 * it is closed, and the first write or flush that failed. That failure is a latch: nothing is committed
 * after it, closing included, because data it did not write (or a failed flush dropped, as Linux may) must
 * never become visible through a block table entry or a bitmap bit. The file must be opened again.
 */
public final class WriteSession {

    /** One step of a write, whose failure trips the latch. */
    @FunctionalInterface
    public interface Step {
        void run() throws IOException;
    }

    private final Path path;
    private final boolean writable;
    private boolean closed;
    private IOException failure;

    public WriteSession(Path path, boolean writable) {
        this.path = path;
        this.writable = writable;
    }

    /** Refuses a change to a file open for reading, closed, or past a failed write. */
    public void requireWritable() {
        if (!writable) {
            throw new IllegalStateException(path + " is open for reading only");
        }
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
        if (failure != null) {
            throw new IllegalStateException(path + ": an earlier write failed; open the file again", failure);
        }
    }

    /** Refuses a commit after a failed write: the commit would publish what may never have reached the file. */
    public void requireNoFailure() throws IOException {
        if (failure != null) {
            throw new IOException(path + ": not committed: an earlier write failed", failure);
        }
    }

    /** Runs {@code step}, tripping the latch if it fails. */
    public void latching(Step step) throws IOException {
        try {
            step.run();
        } catch (IOException e) {
            throw failed(e);
        }
    }

    /** Trips the latch with {@code e} unless an earlier failure did; returns {@code e} to be thrown. */
    public IOException failed(IOException e) {
        if (failure == null) {
            failure = e;
        }
        return e;
    }

    public boolean hasFailed() {
        return failure != null;
    }

    public boolean isClosed() {
        return closed;
    }

    public void markClosed() {
        closed = true;
    }
}
