package io.chainmerge.common.message;

import java.time.Instant;
import java.util.List;

/**
 * What a space check found on one volume root, on {@code chainmerge.inventory} (compacted, keyed
 * {@code host:volume}) and inside the space check's result.
 *
 * @param host the worker that scanned it
 * @param volume the volume root as the worker serves it
 * @param totalBytes and {@code usableBytes}: the file system's space
 * @param problems files that could not be read as disks ({@code path: kind: message})
 * @param pendingMerges journals of interrupted merges
 */
public record VolumeInventory(
        int schemaVersion,
        String jobId,
        String campaignId,
        String pool,
        String host,
        String volume,
        Instant scannedAt,
        String fileSystem,
        long totalBytes,
        long usableBytes,
        List<InventoryDisk> disks,
        List<String> problems,
        List<String> pendingMerges) {
    public VolumeInventory {
        Schema.checkVersion(schemaVersion);
        Schema.require(jobId, "jobId");
        Schema.require(campaignId, "campaignId");
        Schema.poolName(pool, "pool");
        Schema.require(host, "host");
        Schema.absolutePath(volume, "volume");
        Schema.require(scannedAt, "scannedAt");
        disks = disks == null ? List.of() : List.copyOf(disks);
        problems = problems == null ? List.of() : List.copyOf(problems);
        pendingMerges = pendingMerges == null ? List.of() : List.copyOf(pendingMerges);
    }

    public String key() {
        return host + ":" + volume;
    }
}
