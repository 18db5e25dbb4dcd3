package io.chainmerge.common.message;

import java.time.Instant;

/**
 * A running merge's progress on {@code chainmerge.progress}, keyed by job id, at least every 2 s.
 *
 * @param bytesPerSecond the recent copy rate
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
        Instant at) {
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
