package io.chainmerge.common.message;

import java.time.Instant;

/**
 * Point {@code child} at its parent's new location {@code newParent} (Set-VHD -ParentPath). Refused
 * when {@code newParent} is not the disk the child was made from.
 *
 * @param chain the path of the chain's root; the Kafka key
 */
public record SetParentJob(
        int schemaVersion,
        String jobId,
        String campaignId,
        String pool,
        Instant issuedAt,
        String chain,
        String child,
        String newParent)
        implements Job {

    public SetParentJob {
        Schema.checkVersion(schemaVersion);
        Schema.require(jobId, "jobId");
        Schema.require(campaignId, "campaignId");
        Schema.poolName(pool, "pool");
        Schema.require(issuedAt, "issuedAt");
        Schema.absolutePath(chain, "chain");
        Schema.absolutePath(child, "child");
        Schema.absolutePath(newParent, "newParent");
    }

    @Override
    public JobKind kind() {
        return JobKind.SET_PARENT;
    }

    @Override
    public String key() {
        return chain;
    }

    @Override
    public <R, X extends Exception> R accept(JobVisitor<R, X> visitor) throws X {
        return visitor.setParent(this);
    }
}
