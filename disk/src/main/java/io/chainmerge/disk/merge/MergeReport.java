package io.chainmerge.disk.merge;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * What a merge did.
 *
 * @param plan what was decided before it started
 * @param dryRun nothing was changed
 * @param resumed it finished a run a crash had interrupted
 * @param bytesMerged payload bytes copied into the destination
 * @param zeroBytes bytes the sources defined as zeros, made zeros in the destination
 * @param destinationGrowthBytes how much the destination's file grew
 * @param destinationIdentity the destination's identity afterwards (what its children link to)
 * @param removedSources the source files deleted, newest first
 * @param repointedChildren the children now linked to the destination
 */
public record MergeReport(
        MergePlan plan,
        boolean dryRun,
        boolean resumed,
        long bytesMerged,
        long zeroBytes,
        Duration duration,
        long destinationGrowthBytes,
        UUID destinationIdentity,
        List<Path> removedSources,
        List<Path> repointedChildren) {

    public MergeReport {
        removedSources = List.copyOf(removedSources);
        repointedChildren = List.copyOf(repointedChildren);
    }
}
