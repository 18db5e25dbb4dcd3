package io.chainmerge.disk.pace;

import java.util.OptionalLong;

/**
 * Sets a volume's merge pace from its service latency, once per sample, by additive increase and
 * multiplicative decrease (AIMD, the rule TCP uses to share a link):
 *
 * <ul>
 *   <li>latency over the pause threshold for {@link PaceSettings#PAUSE_AFTER} samples in a row:
 *       pause; stay paused until the latency is back under the target (not merely under the pause
 *       threshold), then go on at the minimum rate;
 *   <li>latency over the target: halve the pace, never below the minimum rate;
 *   <li>latency at or under the target: add a tenth of the ceiling, never above the maximum rate
 *       (reaching it with no maximum set means no limit);
 *   <li>no sample (nothing measured in the interval): keep the pace; a paused volume goes on at the
 *       minimum rate, since a pause that measures nothing could otherwise never end.
 * </ul>
 *
 * <p>The ceiling is the maximum rate, or with none set the fastest the merges' own I/O has gone (so a
 * merge without a rate limit comes back to full speed in ten quiet samples). Against a steady
 * foreground whose latency rises with the merge's pace, the pace settles into a saw-tooth between half
 * the highest pace that keeps the target and that pace plus one step: that is the bound on its
 * oscillation, and the unit tests hold it to it.
 */
public final class LatencyController {
    static final double DECREASE = 0.5;
    static final int STEPS_TO_CEILING = 10;

    private final PaceSettings settings;
    private long rate; // 0: no limit
    private boolean paused;
    private int overPause;
    private long fastestObserved;
    private PaceDecision last;

    public LatencyController(PaceSettings settings) {
        this.settings = settings;
        this.rate = settings.maxRate();
        this.last = new PaceDecision(rate, false, -1, "no latency measured yet");
    }

    /** The merges' own throughput, their waits excluded: the ceiling when no maximum rate is set. */
    public void observedThroughput(long bytesPerSecond) {
        fastestObserved = Math.max(fastestObserved, bytesPerSecond);
    }

    public PaceDecision current() {
        return last;
    }

    /** Takes one latency sample (nanoseconds; empty when nothing was measured) and sets the pace. */
    public PaceDecision step(OptionalLong latencyNanos) {
        long target = settings.latencyTarget().toNanos();
        long pause = settings.latencyPause().toNanos();
        if (latencyNanos.isEmpty()) {
            if (paused) {
                paused = false;
                rate = settings.minRate();
                return decide(-1, "no latency measured while paused: going on at io.min-rate");
            }
            return decide(-1, "no latency measured: pace kept");
        }
        long latency = latencyNanos.getAsLong();
        String figures = ms(latency);
        if (pause > 0 && latency > pause) {
            overPause++;
            if (paused || overPause >= PaceSettings.PAUSE_AFTER) {
                paused = true;
                return decide(latency, "latency " + figures + " > pause " + ms(pause) + ": paused");
            }
        } else {
            overPause = 0;
        }
        if (paused) {
            if (latency > target) {
                return decide(latency, "latency " + figures + " > " + ms(target) + ": still paused");
            }
            paused = false;
            rate = settings.minRate();
            return decide(latency, "latency " + figures + " <= " + ms(target) + ": resumed at io.min-rate");
        }
        if (latency > target) {
            long from = rate == 0 ? ceiling() : rate;
            rate = Math.max(settings.minRate(), (long) (from * DECREASE));
            return decide(latency, "latency " + figures + " > " + ms(target));
        }
        if (rate != 0) {
            long ceiling = ceiling();
            long raised = rate + Math.max(1, ceiling / STEPS_TO_CEILING);
            rate = raised >= ceiling ? settings.maxRate() : raised;
        }
        return decide(latency, "latency " + figures + " <= " + ms(target));
    }

    private long ceiling() {
        if (settings.maxRate() > 0) {
            return settings.maxRate();
        }
        // Without a rate limit and before any throughput is known, the minimum rate's tenfold is a start.
        return Math.max(fastestObserved, settings.minRate() * STEPS_TO_CEILING);
    }

    private PaceDecision decide(long latency, String reason) {
        last = new PaceDecision(paused ? 0 : rate, paused, latency, reason);
        return last;
    }

    /** Milliseconds, with one decimal under 10 ms, where the difference matters to a flash volume. */
    static String ms(long nanos) {
        double millis = nanos / 1e6;
        return millis < 10 ? String.format(java.util.Locale.ROOT, "%.1f ms", millis) : Math.round(millis) + " ms";
    }
}
