package io.chainmerge.disk.merge;

/**
 * Receives a merge's progress, from the thread that runs it, after every chunk it copies (at most 8
 * MiB), and can
 *
 * ask it to stop. Stop a merge through {@link #cancelled()}, never by interrupting its thread: an
 * interrupt during file I/O closes the file's channel.
 */
@FunctionalInterface
public interface MergeProgress {
    MergeProgress NONE = (done, total) -> {};

    /** {@code bytesDone} of the {@code bytesTotal} payload bytes are in the destination. */
    void update(long bytesDone, long bytesTotal);

    /**
     * Asked after every chunk; true stops the merge where it stands, committed and journaled, with an
     *
     * {@link java.io.InterruptedIOException}. Running the same merge again finishes it.
     */
    default boolean cancelled() {
        return false;
    }

    /**
     * The throttle the copy holds itself to, given the request's rate: that fixed rate unless the
     * caller paces the copy by something it measures (the volume's latency) through a {@link Pace}.
     */
    default Throttle throttle(long rateBytesPerSecond) {
        return new Throttle(rateBytesPerSecond);
    }
}
