package io.chainmerge.disk.merge;

import java.nio.file.Path;

/**
 * The space a merge needs on the volume it writes to, against what that volume can give.
 *
 * @param target the file that grows (the destination, or the new file of a flatten)
 * @param volume the mount point of the file system it lives on
 * @param requiredBytes how much the target's file grows by (the whole new file for a flatten)
 * @param usableBytes free space the file system reports to this process
 * @param reserveBytes space that must stay free
 * @param exact whether {@code requiredBytes} is exact; a flatten that skips zero blocks needs at most it
 */
public record SpaceEstimate(
        Path target, Path volume, long requiredBytes, long usableBytes, long reserveBytes, boolean exact) {

    /** What the merge may use: usable space less the reserve. */
    public long availableBytes() {
        return Math.max(0, usableBytes - reserveBytes);
    }

    public boolean fits() {
        return requiredBytes <= availableBytes();
    }
}
