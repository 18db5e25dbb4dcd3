package io.chainmerge.disk.pace;

/**
 * The pace of a volume's merges and why.
 *
 * @param bytesPerSecond the pace; 0 for no limit (meaningless while paused)
 * @param paused whether the merges wait
 * @param latencyNanos the latency sample the decision came from; -1 when none was measured
 * @param reason for people: "latency 35 ms > 20 ms"
 */
public record PaceDecision(long bytesPerSecond, boolean paused, long latencyNanos, String reason) {}
