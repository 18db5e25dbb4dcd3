package io.chainmerge.disk.scan;

import io.chainmerge.disk.DiskFormat;
import io.chainmerge.disk.DiskType;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * One disk file found by a scan, placed in its tree.
 *
 * @param parent the parent file, when one was found (null for roots and for missing parents)
 * @param children the disks found linked to this one
 * @param depth levels from the chain's root down to this disk, the root being 1; for an orphan,
 *     counted from the topmost disk that still links
 * @param root the root of the chain, null when the chain is broken
 * @param linkProblem what is wrong with the parent link, null when nothing is
 */
public record ScannedDisk(
        Path path,
        DiskFormat format,
        DiskType type,
        long virtualSize,
        long fileSize,
        int blockSize,
        UUID identity,
        UUID virtualDiskId,
        LinkStatus link,
        Path parent,
        List<Path> children,
        int depth,
        Path root,
        String linkProblem) {

    public ScannedDisk {
        children = List.copyOf(children);
    }

    public boolean isOrphan() {
        return link == LinkStatus.MISSING_PARENT || link == LinkStatus.MODIFIED_PARENT;
    }

    /** A disk with more than one child: merging anything into it would orphan the others. */
    public boolean hasSiblingChildren() {
        return children.size() > 1;
    }
}
