package io.chainmerge.disk.vhdx;

/**
 * What writing into one payload block does to it, decided from the block's state alone. The write
 * path and the space estimator both ask this one place, which is why the estimate is exact.
 */
enum BlockWrite {
    /** The block is allocated and fully present: overwrite in place. */
    IN_PLACE,
    /** The block is partially present: overwrite in place and set the written sectors' bitmap bits. */
    IN_PLACE_SET_BITS,
    /** Allocate the block and make it fully present; sectors not written read as zeros. */
    ALLOCATE_FULL,
    /** Allocate the block as partially present (differencing): unwritten sectors still come from the parent. */
    ALLOCATE_PARTIAL,
    /** The whole block becomes zeros without allocating anything. */
    SET_ZERO_STATE,
    /** The block already reads as what is written (zeros over zeros). */
    NOTHING;

    static BlockWrite decide(int state, boolean differencing, boolean zeros, boolean wholeBlock) {
        if (state == BatEntry.PAYLOAD_FULLY_PRESENT) {
            return IN_PLACE;
        }
        if (state == BatEntry.PAYLOAD_PARTIALLY_PRESENT) {
            return IN_PLACE_SET_BITS;
        }
        if (!differencing || BatEntry.readsAsZeros(state)) {
            // Unallocated blocks of a root, and zero blocks of any file, read as zeros already.
            return zeros ? NOTHING : ALLOCATE_FULL;
        }
        // A NOT_PRESENT block of a differencing disk: its sectors come from the parent.
        return zeros && wholeBlock ? SET_ZERO_STATE : ALLOCATE_PARTIAL;
    }

    boolean allocates() {
        return this == ALLOCATE_FULL || this == ALLOCATE_PARTIAL;
    }

    /** The state the block has after this write. */
    int resultingState(int state) {
        return switch (this) {
            case IN_PLACE, ALLOCATE_FULL -> BatEntry.PAYLOAD_FULLY_PRESENT;
            case IN_PLACE_SET_BITS, ALLOCATE_PARTIAL -> BatEntry.PAYLOAD_PARTIALLY_PRESENT;
            case SET_ZERO_STATE -> BatEntry.PAYLOAD_ZERO;
            case NOTHING -> state;
        };
    }
}
