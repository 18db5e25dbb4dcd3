package io.chainmerge.disk.merge;

import io.chainmerge.disk.VirtualDisk;
import java.io.IOException;
import java.io.InterruptedIOException;

/**
 * Flushes a copy's target on a thread of its own while the copy goes on writing, so the storage is
 * kept busy and a window's commit finds little left to flush. Measured on a virtio disk: 2 GiB
 * merges ran about a fifth faster with this thread than without (README, Performance).
 *
 * <p>Safety rests on the target: an early flush only makes data durable sooner, never reorders it
 * against metadata, which commits write after a flush of their own; and a flush that fails here fails
 * the target's next commit ({@link VirtualDisk#flushWrittenData()}).
 */
final class WriteBehind implements AutoCloseable {
    private final VirtualDisk target;
    private final Thread thread;
    private boolean requested;
    private boolean closed;

    WriteBehind(VirtualDisk target) {
        this.target = target;
        this.thread =
                new Thread(this::run, "chainmerge-write-behind " + target.path().getFileName());
        thread.setDaemon(true);
        thread.start();
    }

    /** Asks for a flush of what is written so far; one flush covers every request made before it starts. */
    synchronized void request() {
        requested = true;
        notifyAll();
    }

    private void run() {
        while (true) {
            synchronized (this) {
                while (!requested && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                requested = false;
            }
            try {
                target.flushWrittenData();
            } catch (IOException e) {
                // The target remembers the failure and refuses its next commit with it; flushing on
                // would only report it again.
                return;
            }
        }
    }

    /** Stops the thread after the flush under way, if any, so the target may be closed. */
    @Override
    public void close() throws InterruptedIOException {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while the write-behind flush finished");
        }
    }
}
