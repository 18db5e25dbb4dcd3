package io.chainmerge.common.message;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;

/**
 * A running merge's progress on {@code chainmerge.progress}, keyed by job id, at least every 2 s.
 *
 * @param bytesPerSecond the recent copy rate
 * @param pacing the pace the volume's latency sets for the merge, and why; absent (and not written,
 *     so a reader of an earlier release still reads the message) when the worker paces by a fixed
 *     rate alone
 */
public record JobProgress(
        int schemaVersion,
        String jobId,
        String campaignId,
        String pool,
        String worker,
        String child,
        long bytesDone,
        long bytesTotal,
        long bytesPerSecond,
        Instant at,
        @JsonInclude(JsonInclude.Include.NON_NULL) Pacing pacing) {

    /**
     * The pace of a merge held to its volume's latency.
     *
     * @param bytesPerSecond the pace now; 0 for no limit
     * @param paused whether the merge waits for the latency to come down
     * @param reason what set it, e.g. "latency 35 ms > 20 ms"
     */
    public record Pacing(long bytesPerSecond, boolean paused, String reason) {
        public Pacing {
            if (bytesPerSecond < 0) {
                throw new IllegalArgumentException("a pace cannot be negative");
            }
            Schema.require(reason, "pacing.reason");
        }
    }

    /** Progress of a merge held to a fixed rate (or none), as every earlier release wrote it. */
    public JobProgress(
            int schemaVersion,
            String jobId,
            String campaignId,
            String pool,
            String worker,
            String child,
            long bytesDone,
            long bytesTotal,
            long bytesPerSecond,
            Instant at) {
        this(schemaVersion, jobId, campaignId, pool, worker, child, bytesDone, bytesTotal, bytesPerSecond, at, null);
    }

    public JobProgress {
        Schema.checkVersion(schemaVersion);
        Schema.require(jobId, "jobId");
        Schema.require(campaignId, "campaignId");
        Schema.poolName(pool, "pool");
        Schema.require(worker, "worker");
        Schema.require(at, "at");
        if (bytesDone < 0 || bytesTotal < 0) {
            throw new IllegalArgumentException("progress counts cannot be negative");
        }
    }
}
