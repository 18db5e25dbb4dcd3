package io.chainmerge.disk.vhd;

/**
 * What writing into one block does to it, decided from whether the BAT points at it. The write path
 * and the space estimator both ask this one place, which is why the estimate is exact.
 */
enum BlockWrite {
    /** The block is in the file (dynamic disk): overwrite in place. */
    IN_PLACE,
    /** The block is in the file (differencing disk): overwrite in place and set the written sectors' bits. */
    IN_PLACE_SET_BITS,
    /**
     * Append a block. In a dynamic disk every bit is set and unwritten sectors read as zeros; in a
     * differencing disk only the written sectors' bits are set, the others still come from the parent.
     * VHD has no zero-block state, so zeros written over a parent allocate too.
     */
    ALLOCATE,
    /** Zeros over an absent block of a dynamic disk, which reads as zeros already. */
    NOTHING;

    static BlockWrite decide(boolean allocated, boolean differencing, boolean zeros) {
        if (allocated) {
            return differencing ? IN_PLACE_SET_BITS : IN_PLACE;
        }
        return zeros && !differencing ? NOTHING : ALLOCATE;
    }
}
