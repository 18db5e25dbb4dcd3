package io.chainmerge.disk.merge;

/** Receives a merge's progress, from the thread that runs it, at least once per copied window. */
@FunctionalInterface
public interface MergeProgress {
    MergeProgress NONE = (done, total) -> {};

    /** {@code bytesDone} of the {@code bytesTotal} payload bytes are in the destination. */
    void update(long bytesDone, long bytesTotal);
}
