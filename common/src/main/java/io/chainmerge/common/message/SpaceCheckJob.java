package io.chainmerge.common.message;

import java.time.Instant;
import java.util.List;

/**
 * Scan the pool's volumes: every chain as a tree, orphans, disks with several children, free space.
 * The result carries one {@link VolumeInventory} per volume, which also goes to
 * {@code chainmerge.inventory}. Reads headers only, so running it twice is harmless.
 *
 * @param volumes the volume roots to scan; empty for every root the worker serves
 */
public record SpaceCheckJob(
        int schemaVersion, String jobId, String campaignId, String pool, Instant issuedAt, List<String> volumes)
        implements Job {

    public SpaceCheckJob {
        Schema.checkVersion(schemaVersion);
        Schema.require(jobId, "jobId");
        Schema.require(campaignId, "campaignId");
        Schema.poolName(pool, "pool");
        Schema.require(issuedAt, "issuedAt");
        volumes = volumes == null ? List.of() : List.copyOf(volumes);
        volumes.forEach(v -> Schema.absolutePath(v, "volumes[]"));
    }

    @Override
    public JobKind kind() {
        return JobKind.SPACE_CHECK;
    }

    @Override
    public String key() {
        return "space-check/" + jobId;
    }

    @Override
    public <R, X extends Exception> R accept(JobVisitor<R, X> visitor) throws X {
        return visitor.spaceCheck(this);
    }
}
