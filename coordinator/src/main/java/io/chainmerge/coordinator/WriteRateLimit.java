package io.chainmerge.coordinator;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A token bucket per principal for state-changing calls: {@code burst} at once, refilled at
 * {@code perMinute}. One caller's loop cannot flood the campaigns log or the backup intake for the others.
 */
final class WriteRateLimit {
    private record Bucket(double tokens, long atNanos) {}

    private final double perNano;
    private final int burst;
    private final Clock clock;
    private final Map<String, Bucket> buckets = new HashMap<>();

    WriteRateLimit(int perMinute, int burst, Clock clock) {
        this.perNano = perMinute / 60e9;
        this.burst = burst;
        this.clock = clock;
    }

    /** Takes a call of {@code principal}: empty when it may go on, else how long it should wait. */
    synchronized Optional<Duration> take(String principal) {
        long now = nanos();
        Bucket bucket = buckets.getOrDefault(principal, new Bucket(burst, now));
        double tokens = Math.min(burst, bucket.tokens() + (now - bucket.atNanos()) * perNano);
        if (tokens >= 1) {
            buckets.put(principal, new Bucket(tokens - 1, now));
            return Optional.empty();
        }
        buckets.put(principal, new Bucket(tokens, now));
        return Optional.of(Duration.ofNanos((long) Math.ceil((1 - tokens) / perNano)));
    }

    private long nanos() {
        java.time.Instant now = clock.instant();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
