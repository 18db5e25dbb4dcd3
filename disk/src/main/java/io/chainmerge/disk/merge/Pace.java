package io.chainmerge.disk.merge;

/**
 * A pace that changes while a copy runs (set by the latency of the volume it works on, say), which a
 * {@link Throttle} holds the copy to. Called from the copying thread only.
 */
public interface Pace {
    /** What {@link #bytesPerSecond()} answers while the copy must wait. */
    long PAUSED = -1;

    /** Bytes per second the copy may run at now: 0 for no limit, {@link #PAUSED} to wait. */
    long bytesPerSecond();

    /** The copy's own reads and writes of {@code bytes} took {@code nanos}, waits excluded. */
    void observed(long bytes, long nanos);

    /**
     * True when a paused copy should go on by one chunk anyway, so that the loop that drives it
     * hears a stop asked of it (a shutdown, a window's end) and stops resumably.
     */
    boolean stopWanted();
}
