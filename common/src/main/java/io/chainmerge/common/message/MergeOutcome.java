package io.chainmerge.common.message;

import java.util.List;

/**
 * What a merge job did, or would do when it was a dry run.
 *
 * @param sources the files whose data was merged, newest first
 * @param destination the file that received the data (or the new file of a flatten)
 * @param payloadBytes the bytes the sources define
 * @param requiredBytes the growth the space check asked of the destination's volume
 * @param availableBytes what that volume had, less its reserve
 * @param destinationGrowthBytes how much the destination grew
 * @param reclaimedBytes space given back: the removed sources' sizes less the growth (negative for a flatten)
 * @param removed the source files deleted
 * @param repointed children now linked to the destination
 * @param resumed it finished a run that a crash or stop had interrupted
 * @param reattach the disk a VM attached to the newest source must now attach (the destination, when the
 *     newest source had no child); null when no VM's disk changes, or not known (a run finished before a crash)
 */
public record MergeOutcome(
        boolean dryRun,
        boolean resumed,
        List<String> sources,
        String destination,
        long payloadBytes,
        long requiredBytes,
        long availableBytes,
        long destinationGrowthBytes,
        long reclaimedBytes,
        List<String> removed,
        List<String> repointed,
        String reattach) {
    public MergeOutcome {
        sources = sources == null ? List.of() : List.copyOf(sources);
        removed = removed == null ? List.of() : List.copyOf(removed);
        repointed = repointed == null ? List.of() : List.copyOf(repointed);
    }
}
