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
 * @param reserveBytes the space the worker's own {@code reserve} keeps free on this volume (a job's
 *     reserve may say otherwise); 0 when not reported
 * @param workerUrl the worker's HTTP base URL ({@code http.advertised-url}), where another worker pulls
 *     transplanted files from; null when not reported
 * @param problems files that could not be read as disks ({@code path: kind: message})
 * @param pendingMerges journals of interrupted merges
 * @param volumeId the volume's own identity, the same from every host and mount path
 *     ({@code .chainmerge/volume-id} on the volume); null when the worker could not have it, or predates it
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
        List<String> pendingMerges,
        long reserveBytes,
        String workerUrl,
        String volumeId) {
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
        if (reserveBytes < 0) {
            throw new IllegalArgumentException("reserveBytes cannot be negative");
        }
    }

    /** Space the worker's reserve leaves for merges and transplants, as the check found it. */
    public long roomBytes() {
        return Math.max(0, usableBytes - reserveBytes);
    }

    /** The volume holds less free space than the worker's reserve. */
    public boolean underReserve() {
        return usableBytes < reserveBytes;
    }

    public String key() {
        return host + ":" + volume;
    }
}
