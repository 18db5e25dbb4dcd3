package io.chainmerge.disk;

/** How a virtual disk stores its blocks. */
public enum DiskType {
    /** Every block is allocated when the disk is created; the file does not grow. */
    FIXED,
    /** Blocks are allocated on first write; unallocated blocks read as zeros. */
    DYNAMIC,
    /** Blocks are allocated on first write; unallocated sectors are read from the parent. */
    DIFFERENCING;

    public boolean hasParent() {
        return this == DIFFERENCING;
    }
}
