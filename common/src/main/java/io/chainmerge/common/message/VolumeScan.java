package io.chainmerge.common.message;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.time.Instant;

/**
 * One volume a space check scanned, as its result names it: which scan it was and how much it found. The
 * disks themselves travel on {@code chainmerge.inventory} in the scan's pages ({@link VolumeInventory}),
 * so a result, and the coordinator's state that records it, stays small however many disks a volume holds.
 *
 * <p>A result of an earlier release held the whole inventory here; reading one keeps the volume and drops
 * its disks and figures (the fields ignored below), and its {@code scanId} is null.
 *
 * @param scanId the scan whose pages hold the disks; null in a result of an earlier release
 * @param pages how many pages of the scan are on {@code chainmerge.inventory}
 * @param diskCount how many disks the scan found on the volume
 */
@JsonIgnoreProperties({
    "fileSystem",
    "totalBytes",
    "usableBytes",
    "disks",
    "problems",
    "pendingMerges",
    "reserveBytes",
    "workerUrl",
    "volumeId"
})
public record VolumeScan(
        int schemaVersion,
        String jobId,
        String campaignId,
        String pool,
        String host,
        String volume,
        Instant scannedAt,
        String scanId,
        Integer pages,
        Integer diskCount) {
    public VolumeScan {
        Schema.checkVersion(schemaVersion);
        Schema.require(jobId, "jobId");
        Schema.require(campaignId, "campaignId");
        Schema.poolName(pool, "pool");
        Schema.require(host, "host");
        Schema.absolutePath(volume, "volume");
        Schema.require(scannedAt, "scannedAt");
        if (scanId == null) {
            pages = pages == null ? 1 : pages;
            diskCount = diskCount == null ? 0 : diskCount;
        } else {
            Schema.require(scanId, "scanId");
            Schema.require(pages, "pages");
            Schema.require(diskCount, "diskCount");
        }
        if (pages < 1 || diskCount < 0) {
            throw new IllegalArgumentException("a scan has at least one page and no negative count of disks");
        }
    }

    /** The volume's key, {@code host:volume}, as its inventory's pages name it. */
    @JsonIgnore
    public String key() {
        return host + ":" + volume;
    }
}
