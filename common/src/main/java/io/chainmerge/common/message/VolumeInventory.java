package io.chainmerge.common.message;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;
import java.util.List;

/**
 * What a space check found on one volume root, on {@code chainmerge.inventory} (compacted): one page of
 * the scan's disks, keyed {@link #pageKey()}. Every page of a scan carries the volume's own figures and
 * the same {@code scanId}; {@link InventoryPages} splits a scan into pages and puts them together again.
 * The space check's result names the scan ({@link VolumeScan}) but never holds its disks.
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
 * @param scanId the scan this page belongs to, new for every scan of the volume; null on a record of an
 *     earlier release, which holds the whole scan on its own
 * @param page this page's number, from 0
 * @param pages how many pages the scan has (1 for a record of an earlier release)
 * @param diskCount how many disks the scan found on the volume, over all its pages
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
        String volumeId,
        String scanId,
        Integer page,
        Integer pages,
        Integer diskCount) {
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
        if (scanId == null) {
            // a record of an earlier release: the whole scan, under the volume's own key
            if ((page != null && page != 0) || (pages != null && pages != 1)) {
                throw new IllegalArgumentException("a page of a scan names its scanId");
            }
            page = 0;
            pages = 1;
            diskCount = disks.size();
        } else {
            Schema.require(scanId, "scanId");
            Schema.require(page, "page");
            Schema.require(pages, "pages");
            Schema.require(diskCount, "diskCount");
            if (pages < 1 || page < 0 || page >= pages) {
                throw new IllegalArgumentException("page " + page + " is not one of the scan's " + pages + " pages");
            }
            if (diskCount < disks.size()) {
                throw new IllegalArgumentException(
                        "diskCount " + diskCount + " is smaller than the " + disks.size() + " disks of one page");
            }
        }
    }

    /** A whole scan of a volume, before it is split into pages: one page of its own, named by no scan. */
    public VolumeInventory(
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
        this(
                schemaVersion,
                jobId,
                campaignId,
                pool,
                host,
                volume,
                scannedAt,
                fileSystem,
                totalBytes,
                usableBytes,
                disks,
                problems,
                pendingMerges,
                reserveBytes,
                workerUrl,
                volumeId,
                null,
                null,
                null,
                null);
    }

    /** This inventory as page {@code page} of {@code pages} of scan {@code scanId}, holding {@code pageDisks}. */
    public VolumeInventory asPage(
            String scan, int page, int pages, int diskCount, List<InventoryDisk> pageDisks, List<String> pageProblems) {
        return new VolumeInventory(
                schemaVersion,
                jobId,
                campaignId,
                pool,
                host,
                volume,
                scannedAt,
                fileSystem,
                totalBytes,
                usableBytes,
                pageDisks,
                pageProblems,
                pendingMerges,
                reserveBytes,
                workerUrl,
                volumeId,
                scan,
                page,
                pages,
                diskCount);
    }

    /** What a space check's result says of this scan: which it was, and what it found, without the disks. */
    public VolumeScan summary() {
        return new VolumeScan(
                schemaVersion, jobId, campaignId, pool, host, volume, scannedAt, scanId, pages, diskCount);
    }

    /** Space the worker's reserve leaves for merges and transplants, as the check found it. */
    public long roomBytes() {
        return Math.max(0, usableBytes - reserveBytes);
    }

    /** The volume holds less free space than the worker's reserve. */
    public boolean underReserve() {
        return usableBytes < reserveBytes;
    }

    /** The volume's own key, {@code host:volume}: every page of every scan of the volume shares it. */
    public String key() {
        return host + ":" + volume;
    }

    /**
     * This record's key on the compacted topic: {@code host:volume#page}, so that each page of the latest
     * scan stays; {@code host:volume} for a record of an earlier release.
     */
    @JsonIgnore
    public String pageKey() {
        return scanId == null ? key() : key() + "#" + page;
    }
}
