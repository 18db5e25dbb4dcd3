package io.chainmerge.disk.scan;

/** How a scanned disk stands with its parent. */
public enum LinkStatus {
    /** A fixed or dynamic disk: the root of its chain. */
    ROOT,
    /** A differencing disk whose parent was found and carries the identity it recorded. */
    LINKED,
    /** Orphaned: no file at any path the disk records for its parent. */
    MISSING_PARENT,
    /** Orphaned: the parent was found but its identity changed, so its data changed after the child was made. */
    MODIFIED_PARENT,
    /** The parent is of the other format or another sector size: never merged. */
    INVALID_PARENT
}
