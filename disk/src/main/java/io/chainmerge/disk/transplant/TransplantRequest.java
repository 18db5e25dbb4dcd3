package io.chainmerge.disk.transplant;

import io.chainmerge.disk.merge.Reserve;
import java.nio.file.Path;

/**
 * What a transplant is asked to do on the receiving host.
 *
 * @param targetFolder where the copies go (created when missing)
 * @param move remove the sources once the copies are checked and linked
 * @param roomForMergeBytes space to leave on the target's volume, beyond the copies and the reserve
 * @param reserve space to leave free on the target's volume
 * @param rateBytesPerSecond the most bytes copied per second; 0 for no limit
 * @param attempts how many times a copy that arrives damaged is fetched from scratch before giving up
 */
public record TransplantRequest(
        Path targetFolder,
        boolean move,
        long roomForMergeBytes,
        Reserve reserve,
        long rateBytesPerSecond,
        int attempts) {
    public TransplantRequest {
        if (!targetFolder.isAbsolute()) {
            throw new IllegalArgumentException("the target folder must be an absolute path: " + targetFolder);
        }
        if (roomForMergeBytes < 0 || rateBytesPerSecond < 0 || attempts < 1) {
            throw new IllegalArgumentException("room, rate and attempts cannot be negative; at least one attempt");
        }
    }
}
