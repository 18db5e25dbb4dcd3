package io.chainmerge.common.message;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The one result of a job, on {@code chainmerge.results}, keyed by job id.
 *
 * @param worker the worker that ran it
 * @param problem why it was refused or failed; null when it succeeded
 * @param bytesMerged payload bytes copied (0 for other kinds and dry runs)
 * @param duration how long the job ran
 * @param resultingChain the chain after the job, from the newest disk it leaves down to the root
 * @param merge what a merge did; null for other kinds and when nothing ran
 * @param transplant what a transplant did: where each file is now, its size and SHA-256, the bytes
 *     copied, the children re-pointed and the sources removed; null for other kinds and when nothing ran
 * @param inventory what a space check scanned, one entry per volume: the scan whose pages on
 *     {@code chainmerge.inventory} hold the disks, never the disks themselves; empty for other kinds
 * @param redelivered the job had been run before: this is the result of that run, from the job journal
 */
public record JobResult(
        int schemaVersion,
        String jobId,
        String campaignId,
        JobKind kind,
        String pool,
        String worker,
        Outcome outcome,
        Problem problem,
        long bytesMerged,
        Instant startedAt,
        Duration duration,
        List<String> resultingChain,
        MergeOutcome merge,
        TransplantOutcome transplant,
        List<VolumeScan> inventory,
        boolean redelivered) {

    public JobResult {
        Schema.checkVersion(schemaVersion);
        Schema.require(jobId, "jobId");
        Schema.require(campaignId, "campaignId");
        Schema.require(kind, "kind");
        Schema.poolName(pool, "pool");
        Schema.require(worker, "worker");
        Schema.require(outcome, "outcome");
        Schema.require(startedAt, "startedAt");
        Schema.require(duration, "duration");
        if ((outcome == Outcome.SUCCEEDED) != (problem == null)) {
            throw new IllegalArgumentException("a result has a problem exactly when it did not succeed");
        }
        resultingChain = resultingChain == null ? List.of() : List.copyOf(resultingChain);
        inventory = inventory == null ? List.of() : List.copyOf(inventory);
    }

    /**
     * {@code job} succeeded on {@code worker}, with nothing to report yet about disks: add what it did with
     * {@link #withMerge}, {@link #withTransplant}, {@link #withResultingChain} or {@link #withInventory}.
     */
    public static JobResult succeeded(Job job, String worker, Instant startedAt, Duration duration) {
        return new JobResult(
                Schema.VERSION,
                job.jobId(),
                job.campaignId(),
                job.kind(),
                job.pool(),
                worker,
                Outcome.SUCCEEDED,
                null,
                0,
                startedAt,
                duration,
                List.of(),
                null,
                null,
                List.of(),
                false);
    }

    /**
     * {@code job} was refused or failed on {@code worker} for {@code problem}: nothing merged, nothing
     * reported about disks.
     */
    public static JobResult unsuccessful(
            Job job, String worker, Outcome outcome, Problem problem, Instant startedAt, Duration duration) {
        if (outcome == Outcome.SUCCEEDED) {
            throw new IllegalArgumentException("an unsuccessful result is refused or failed");
        }
        return verdict(job, worker, outcome, problem, startedAt, duration);
    }

    /** This result with what a merge did: the payload bytes it copied and the chain it left. */
    public JobResult withMerge(long bytes, List<String> chain, MergeOutcome outcome) {
        return with(bytes, chain, outcome, transplant, inventory, redelivered);
    }

    /** This result with what a transplant did and the chain it left. */
    public JobResult withTransplant(List<String> chain, TransplantOutcome outcome) {
        return with(bytesMerged, chain, merge, outcome, inventory, redelivered);
    }

    /** This result with the chain a job left (a re-pointed child's, say), from its newest disk to the root. */
    public JobResult withResultingChain(List<String> chain) {
        return with(bytesMerged, chain, merge, transplant, inventory, redelivered);
    }

    /** This result naming what a space check scanned, one entry per volume. */
    public JobResult withInventory(List<VolumeScan> volumes) {
        return with(bytesMerged, resultingChain, merge, transplant, volumes, redelivered);
    }

    /**
     * A verdict on {@code job} that no worker's run produced (the coordinator's, when it refuses or gives
     * up on a job): nothing merged, nothing reported about disks.
     */
    public static JobResult verdict(
            Job job, String worker, Outcome outcome, Problem problem, Instant startedAt, Duration duration) {
        return new JobResult(
                Schema.VERSION,
                job.jobId(),
                job.campaignId(),
                job.kind(),
                job.pool(),
                worker,
                outcome,
                problem,
                0,
                startedAt,
                duration,
                List.of(),
                null,
                null,
                List.of(),
                false);
    }

    public JobResult asRedelivered() {
        return with(bytesMerged, resultingChain, merge, transplant, inventory, true);
    }

    /** This result with what the job did replaced; who ran which job, how and when stay. */
    private JobResult with(
            long bytes,
            List<String> chain,
            MergeOutcome mergeDone,
            TransplantOutcome transplantDone,
            List<VolumeScan> volumes,
            boolean again) {
        return new JobResult(
                schemaVersion,
                jobId,
                campaignId,
                kind,
                pool,
                worker,
                outcome,
                problem,
                bytes,
                startedAt,
                duration,
                chain,
                mergeDone,
                transplantDone,
                volumes,
                again);
    }
}
