package io.chainmerge.common.message;

import java.time.Instant;

/**
 * A job record a worker could not read, on {@code chainmerge.dead-letter}: the record as it came and
 * why it was rejected. The worker commits past it and goes on.
 *
 * @param jobId and {@code campaignId}: read from the record when they can be, else null
 * @param reason why the record is not a job
 * @param payload the record's value as text (at most 64 KiB of it)
 */
public record DeadLetter(
        int schemaVersion,
        String jobId,
        String campaignId,
        String topic,
        int partition,
        long offset,
        String key,
        String worker,
        String reason,
        String payload,
        Instant at) {
    public DeadLetter {
        Schema.checkVersion(schemaVersion);
        Schema.require(topic, "topic");
        Schema.require(worker, "worker");
        Schema.require(reason, "reason");
        Schema.require(at, "at");
    }
}
