package io.chainmerge.disk;

import java.io.IOException;

/**
 * Predicts, without writing, how many bytes a disk file grows by when a sequence of writes is applied
 * to it. Each format implements it from the same decisions its write path makes, so the figure is
 * exact, not a bound.
 */
public interface SpaceEstimator {

    /**
     * Accounts for a write of data, or of zeros, over {@code [offset, offset + length)} of the virtual
     * disk. Calls come in ascending, non-overlapping order.
     */
    void add(long offset, long length, boolean zeros) throws IOException;

    /** The growth of the file, in bytes, once every accounted write has been made. */
    long growthBytes() throws IOException;
}
