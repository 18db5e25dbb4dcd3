package io.chainmerge.common.message;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.Locale;

/**
 * Merge {@code child} into its parent, or every level down to {@code destination} in one pass, or
 * flatten its whole chain into the new file {@code intoNew}. The worker checks every guard first
 * (space, siblings, orphaned, in use) and refuses without changing anything.
 *
 * @param chain the path of the chain's root; the Kafka key, so one chain's jobs stay in order
 * @param destination an ancestor of {@code child}, or null for its parent
 * @param intoNew a new file to flatten into, or null to merge in place
 * @param intoNewType {@code dynamic} or {@code fixed}, for {@code intoNew}
 * @param dryRun check and plan only
 * @param rateBytesPerSecond the most bytes copied per second; 0 for the worker's setting
 * @param reserve the space to leave free; null for the worker's setting
 * @param windows when the merge may run: it starts only inside one and stops, resumably, at the end
 *     of one, to finish in the next; null (and not written) for any time
 */
public record MergeJob(
        int schemaVersion,
        String jobId,
        String campaignId,
        String pool,
        Instant issuedAt,
        String chain,
        String child,
        String destination,
        String intoNew,
        String intoNewType,
        boolean dryRun,
        long rateBytesPerSecond,
        ReserveSpec reserve,
        @JsonInclude(JsonInclude.Include.NON_NULL) MergeWindows windows)
        implements Job {

    /** A merge that may run any time. */
    public MergeJob(
            int schemaVersion,
            String jobId,
            String campaignId,
            String pool,
            Instant issuedAt,
            String chain,
            String child,
            String destination,
            String intoNew,
            String intoNewType,
            boolean dryRun,
            long rateBytesPerSecond,
            ReserveSpec reserve) {
        this(
                schemaVersion,
                jobId,
                campaignId,
                pool,
                issuedAt,
                chain,
                child,
                destination,
                intoNew,
                intoNewType,
                dryRun,
                rateBytesPerSecond,
                reserve,
                null);
    }

    public MergeJob {
        Schema.checkVersion(schemaVersion);
        Schema.require(jobId, "jobId");
        Schema.require(campaignId, "campaignId");
        Schema.poolName(pool, "pool");
        Schema.require(issuedAt, "issuedAt");
        Schema.absolutePath(chain, "chain");
        Schema.absolutePath(child, "child");
        Schema.optionalPath(destination, "destination");
        Schema.optionalPath(intoNew, "intoNew");
        if (destination != null && intoNew != null) {
            throw new IllegalArgumentException(
                    "merge either into an ancestor (destination) or into a new file (intoNew), not both");
        }
        if (intoNewType != null) {
            intoNewType = intoNewType.toLowerCase(Locale.ROOT);
            if (!intoNewType.equals("dynamic") && !intoNewType.equals("fixed")) {
                throw new IllegalArgumentException("intoNewType is dynamic or fixed, not " + intoNewType);
            }
        }
        if (rateBytesPerSecond < 0) {
            throw new IllegalArgumentException("rateBytesPerSecond cannot be negative");
        }
    }

    /** The same job with another rate limit. */
    public MergeJob withRate(long bytesPerSecond) {
        return new MergeJob(
                schemaVersion,
                jobId,
                campaignId,
                pool,
                issuedAt,
                chain,
                child,
                destination,
                intoNew,
                intoNewType,
                dryRun,
                bytesPerSecond,
                reserve,
                windows);
    }

    /** The same job, to run only inside {@code value} (null: any time). */
    public MergeJob withWindows(MergeWindows value) {
        return new MergeJob(
                schemaVersion,
                jobId,
                campaignId,
                pool,
                issuedAt,
                chain,
                child,
                destination,
                intoNew,
                intoNewType,
                dryRun,
                rateBytesPerSecond,
                reserve,
                value);
    }

    @Override
    public JobKind kind() {
        return JobKind.MERGE;
    }

    @Override
    public String key() {
        return chain;
    }

    @Override
    public <R, X extends Exception> R accept(JobVisitor<R, X> visitor) throws X {
        return visitor.merge(this);
    }
}
