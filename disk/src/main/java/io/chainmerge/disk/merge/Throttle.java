package io.chainmerge.disk.merge;

import java.io.InterruptedIOException;

/** Holds a copy to a byte rate: each call waits until the bytes so far fit the rate since the start. */
public final class Throttle {
    private final long bytesPerSecond;
    private final long started = System.nanoTime();
    private long bytes;

    public Throttle(long bytesPerSecond) {
        this.bytesPerSecond = bytesPerSecond;
    }

    public void acquire(long count) throws InterruptedIOException {
        if (bytesPerSecond <= 0) {
            return;
        }
        bytes += count;
        long due = started + (long) (bytes * 1e9 / bytesPerSecond);
        long wait = due - System.nanoTime();
        if (wait > 0) {
            try {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("the copy was interrupted while held to its rate limit");
            }
        }
    }
}
