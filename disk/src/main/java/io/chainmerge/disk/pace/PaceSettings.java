package io.chainmerge.disk.pace;

import java.time.Duration;

/**
 * How a volume's merges are paced by its latency.
 *
 * @param latencyTarget the service latency the merges keep the volume under; zero for no pacing (the
 *     fixed rate alone)
 * @param latencyPause above this for {@link #PAUSE_AFTER} samples in a row the merges stop copying
 *     until the latency is back under the target; zero never to pause
 * @param minRate the slowest pace while the latency is over its target (bytes per second, at least 1)
 * @param maxRate the fastest pace, the merge's own {@code rate}; 0 for no limit
 * @param interval how often the latency is sampled and the pace set
 */
public record PaceSettings(
        Duration latencyTarget, Duration latencyPause, long minRate, long maxRate, Duration interval) {

    /** Samples in a row over the pause threshold before the merges pause: one spike does not stop them. */
    public static final int PAUSE_AFTER = 2;

    public PaceSettings {
        if (latencyTarget.isNegative() || latencyPause.isNegative()) {
            throw new IllegalArgumentException("io.latency-target and io.latency-pause cannot be negative");
        }
        if (!latencyPause.isZero() && latencyTarget.isZero()) {
            throw new IllegalArgumentException("io.latency-pause needs io.latency-target");
        }
        if (!latencyPause.isZero() && latencyPause.compareTo(latencyTarget) <= 0) {
            throw new IllegalArgumentException("io.latency-pause (" + latencyPause.toMillis()
                    + " ms) must be above io.latency-target (" + latencyTarget.toMillis() + " ms), or 0");
        }
        if (minRate < 1) {
            throw new IllegalArgumentException("io.min-rate must be at least 1 byte per second");
        }
        if (maxRate < 0) {
            throw new IllegalArgumentException("rate cannot be negative");
        }
        if (!latencyTarget.isZero() && maxRate > 0 && minRate > maxRate) {
            throw new IllegalArgumentException("io.min-rate (" + minRate + ") cannot be above rate (" + maxRate + ")");
        }
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("io.latency-interval must be more than 0");
        }
    }

    /** Whether the latency paces the merges at all. */
    public boolean enabled() {
        return !latencyTarget.isZero();
    }

    public PaceSettings withMaxRate(long rate) {
        return new PaceSettings(latencyTarget, latencyPause, minRate, rate, interval);
    }
}
