package io.chainmerge.coordinator;

import java.time.Duration;

/**
 * When a published job counts as stalled and what is done then: a job whose worker showed no sign of life
 * for {@code timeout} is published again, with the same id, until it has been sent {@code maxAttempts}
 * times; then it fails with reason {@code stalled}. Workers report every job they hold at least every
 * {@code progress.interval} (2 s at most), so the timeout only has to outlast a broker hiccup, not a merge.
 */
record StallSettings(Duration timeout, int maxAttempts) {
    /** Far above a worker's progress interval (at most 2 s), so a few lost reports never look like a stall. */
    static final Duration MIN_TIMEOUT = Duration.ofSeconds(2);

    StallSettings {
        if (timeout.compareTo(MIN_TIMEOUT) < 0) {
            throw new IllegalArgumentException("job.stall-timeout must be at least " + MIN_TIMEOUT.toSeconds()
                    + "s (a worker reports progress every 2s at most): " + timeout);
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("job.max-attempts must be at least 1: " + maxAttempts);
        }
    }

    /** The timeout as people write it: {@code 10m}, {@code 3s}, {@code 1h30m}. */
    String readableTimeout() {
        return timeout.toString().substring(2).toLowerCase(java.util.Locale.ROOT);
    }
}
