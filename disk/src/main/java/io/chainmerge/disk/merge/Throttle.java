package io.chainmerge.disk.merge;

import java.io.InterruptedIOException;

/**
 * Holds a copy to a byte rate. A fixed rate: each call waits until the bytes so far fit the rate since
 * the start. A {@link Pace}: each call waits until the previous chunk fits the pace as it is now (so a
 * lower pace takes effect at once and a higher one earns no credit for the time spent slow), waits as
 * long as the pace is paused, and tells the pace how long the copy's own I/O of that chunk took.
 */
public final class Throttle {
    /** How often a wait looks at the pace again: a pace that rises or resumes is heard this soon. */
    static final long PACE_POLL_NANOS = 20_000_000L;

    private final long bytesPerSecond;
    private final Pace pace;
    private final long started = System.nanoTime();
    private long bytes;
    private long lastGranted;
    private long lastBytes;

    public Throttle(long bytesPerSecond) {
        this.bytesPerSecond = bytesPerSecond;
        this.pace = null;
    }

    public Throttle(Pace pace) {
        this.bytesPerSecond = 0;
        this.pace = java.util.Objects.requireNonNull(pace, "pace");
    }

    public void acquire(long count) throws InterruptedIOException {
        if (pace != null) {
            acquirePaced(count);
            return;
        }
        if (bytesPerSecond <= 0) {
            return;
        }
        bytes += count;
        long due = started + (long) (bytes * 1e9 / bytesPerSecond);
        long wait = due - System.nanoTime();
        if (wait > 0) {
            sleep(wait);
        }
    }

    private void acquirePaced(long count) throws InterruptedIOException {
        if (lastBytes > 0) {
            // The time since the last grant is the previous chunk's own reads and writes.
            pace.observed(lastBytes, System.nanoTime() - lastGranted);
        }
        while (true) {
            long rate = pace.bytesPerSecond();
            if (rate == Pace.PAUSED) {
                if (pace.stopWanted()) {
                    break;
                }
                sleep(PACE_POLL_NANOS);
                continue;
            }
            if (rate <= 0 || lastBytes == 0) {
                break;
            }
            long wait = lastGranted + (long) (lastBytes * 1e9 / rate) - System.nanoTime();
            if (wait <= 0) {
                break;
            }
            sleep(Math.min(wait, PACE_POLL_NANOS));
        }
        lastGranted = System.nanoTime();
        lastBytes = count;
    }

    private static void sleep(long nanos) throws InterruptedIOException {
        try {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("the copy was interrupted while held to its rate limit");
        }
    }
}
