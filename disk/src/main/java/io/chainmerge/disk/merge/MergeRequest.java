package io.chainmerge.disk.merge;

import io.chainmerge.disk.DiskType;
import java.nio.file.Path;
import java.util.List;

/**
 * What to merge. {@code child} is the newest disk to merge; by default it merges into its parent.
 *
 * @param destination an ancestor to merge every level from {@code child} down to it into, in one
 *     pass; null for the child's parent
 * @param intoNew a new standalone file to flatten the whole chain into, leaving every source as it is;
 *     null to merge in place
 * @param intoNewType {@link DiskType#DYNAMIC} or {@link DiskType#FIXED}, for {@code intoNew}
 * @param dryRun plan and check every guard, change nothing
 * @param rateBytesPerSecond the most payload bytes copied per second; 0 for no limit
 * @param scanRoots folders searched for other children of the disks the merge changes; empty for the
 *     folder tree of every disk in the chain
 * @param planCheck what the caller checks of the plan {@link Merge#run} executes (that every file lies
 *     under its volume roots, say), once every file is held and before anything is written: checked on
 *     that plan and no other, so no file can change between the check and the merge; none by default
 */
public record MergeRequest(
        Path child,
        Path destination,
        Path intoNew,
        DiskType intoNewType,
        boolean dryRun,
        long rateBytesPerSecond,
        Reserve reserve,
        List<Path> scanRoots,
        Merge.PlanCheck planCheck) {

    public MergeRequest {
        if (destination != null && intoNew != null) {
            throw new IllegalArgumentException("merge either into an ancestor or into a new file, not both");
        }
        if (intoNewType == null) {
            intoNewType = DiskType.DYNAMIC;
        }
        if (intoNewType == DiskType.DIFFERENCING) {
            throw new IllegalArgumentException("a flattened disk is dynamic or fixed");
        }
        if (rateBytesPerSecond < 0) {
            throw new IllegalArgumentException("the rate limit cannot be negative");
        }
        reserve = reserve == null ? Reserve.DEFAULT : reserve;
        scanRoots = scanRoots == null ? List.of() : List.copyOf(scanRoots);
        planCheck = planCheck == null ? NO_CHECK : planCheck;
    }

    private static final Merge.PlanCheck NO_CHECK = plan -> {};

    /** Merge {@code child} into its parent, with the default reserve and no rate limit. */
    public static MergeRequest of(Path child) {
        return new MergeRequest(child, null, null, DiskType.DYNAMIC, false, 0, Reserve.DEFAULT, List.of(), null);
    }

    public MergeRequest withDestination(Path ancestor) {
        return new MergeRequest(
                child, ancestor, intoNew, intoNewType, dryRun, rateBytesPerSecond, reserve, scanRoots, planCheck);
    }

    public MergeRequest withIntoNew(Path file, DiskType type) {
        return new MergeRequest(
                child, destination, file, type, dryRun, rateBytesPerSecond, reserve, scanRoots, planCheck);
    }

    public MergeRequest withDryRun(boolean value) {
        return new MergeRequest(
                child, destination, intoNew, intoNewType, value, rateBytesPerSecond, reserve, scanRoots, planCheck);
    }

    public MergeRequest withRate(long bytesPerSecond) {
        return new MergeRequest(
                child, destination, intoNew, intoNewType, dryRun, bytesPerSecond, reserve, scanRoots, planCheck);
    }

    public MergeRequest withReserve(Reserve value) {
        return new MergeRequest(
                child, destination, intoNew, intoNewType, dryRun, rateBytesPerSecond, value, scanRoots, planCheck);
    }

    public MergeRequest withScanRoots(List<Path> roots) {
        return new MergeRequest(
                child, destination, intoNew, intoNewType, dryRun, rateBytesPerSecond, reserve, roots, planCheck);
    }

    /** This request with {@code guard} checked on the plan the merge executes (see {@code planCheck}). */
    public MergeRequest withPlanCheck(Merge.PlanCheck guard) {
        return new MergeRequest(
                child, destination, intoNew, intoNewType, dryRun, rateBytesPerSecond, reserve, scanRoots, guard);
    }
}
