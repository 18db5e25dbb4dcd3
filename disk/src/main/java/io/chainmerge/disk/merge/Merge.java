package io.chainmerge.disk.merge;

import java.io.IOException;

/** Merges differencing disks bottom-up, crash-safely. */
public final class Merge {
    private Merge() {}

    /** Decides what {@code request} would do and which guards refuse it; changes nothing. */
    public static MergePlan plan(MergeRequest request) throws IOException {
        throw new UnsupportedOperationException("merge planning is being built");
    }

    /** Runs {@code request}: refuses with the first {@link io.chainmerge.disk.GuardRefusal}, or merges. */
    public static MergeReport run(MergeRequest request, MergeProgress progress) throws IOException {
        throw new UnsupportedOperationException("merging is being built");
    }
}
