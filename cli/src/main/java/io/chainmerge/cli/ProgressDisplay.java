package io.chainmerge.cli;

import io.chainmerge.disk.ByteSize;
import io.chainmerge.disk.merge.MergeProgress;
import java.io.PrintStream;
import java.time.Duration;

/**
 * A one-line progress bar on a terminal: bytes, rate and time left, redrawn at most five times a
 * second. Quiet when the output is not a terminal, so piped output and logs stay clean.
 */
public final class ProgressDisplay implements MergeProgress {
    private static final long REDRAW_NANOS = 200_000_000L;
    private final PrintStream out;
    private final String label;
    private final boolean enabled;
    private final long started = System.nanoTime();
    private long lastDraw;
    private boolean drawn;

    public ProgressDisplay(String label) {
        this(System.err, label, System.console() != null);
    }

    ProgressDisplay(PrintStream out, String label, boolean enabled) {
        this.out = out;
        this.label = label;
        this.enabled = enabled;
    }

    @Override
    public void update(long bytesDone, long bytesTotal) {
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        if (bytesDone < bytesTotal && now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        out.print("\r" + line(bytesDone, bytesTotal, now - started));
        out.flush();
        drawn = true;
    }

    /** Ends the line the bar was drawn on. */
    public void finish() {
        if (drawn) {
            out.println();
            out.flush();
        }
    }

    String line(long done, long total, long elapsedNanos) {
        double seconds = elapsedNanos / 1e9;
        return bar(label, done, total, seconds > 0 ? (long) (done / seconds) : 0);
    }

    /** One bar: label, bytes done of total, the rate and the time left at that rate. */
    static String bar(String label, long done, long total, long rate) {
        int width = 30;
        double fraction = total == 0 ? 1 : Math.min(1, (double) done / total);
        int filled = (int) Math.round(fraction * width);
        String left = rate > 0 && done < total ? format(Duration.ofSeconds((total - done) / rate)) : "--:--";
        return "%s [%s%s] %3d%% %s / %s  %s/s  %s left   "
                .formatted(
                        label,
                        "#".repeat(filled),
                        "-".repeat(width - filled),
                        Math.round(fraction * 100),
                        ByteSize.format(done),
                        ByteSize.format(total),
                        ByteSize.format(rate),
                        left);
    }

    /** A bar over a count of things: label, how many are done of the total. */
    static String countBar(String label, int done, int total, String note) {
        int width = 30;
        double fraction = total == 0 ? 1 : (double) done / total;
        int filled = (int) Math.round(fraction * width);
        return "%s [%s%s] %d/%d %s".formatted(label, "#".repeat(filled), "-".repeat(width - filled), done, total, note);
    }

    private static String format(Duration duration) {
        long s = duration.getSeconds();
        return s >= 3600
                ? "%d:%02d:%02d".formatted(s / 3600, s / 60 % 60, s % 60)
                : "%d:%02d".formatted(s / 60, s % 60);
    }
}
