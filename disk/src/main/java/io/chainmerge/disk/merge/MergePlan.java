package io.chainmerge.disk.merge;

import io.chainmerge.disk.GuardRefusal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a merge will do, decided before any byte changes.
 *
 * @param sources the disks whose data is merged, newest first; removed afterwards unless flattening
 * @param destination the ancestor that receives the data, or the new file of a flatten
 * @param intoNew whether the destination is a new file (sources stay as they are)
 * @param childrenToRepoint children of the newest source, re-pointed at the destination
 * @param payloadBytes bytes of data the sources define, to be copied
 * @param space the space the destination's volume must have
 * @param refusals the guards that refuse this merge; empty when it may run
 * @param pendingJournal the journal of an interrupted run of this merge, which running it finishes
 */
public record MergePlan(
        List<Path> sources,
        Path destination,
        boolean intoNew,
        List<Path> childrenToRepoint,
        long payloadBytes,
        SpaceEstimate space,
        List<GuardRefusal> refusals,
        Path pendingJournal) {

    public MergePlan {
        sources = List.copyOf(sources);
        childrenToRepoint = List.copyOf(childrenToRepoint);
        refusals = List.copyOf(refusals);
    }

    public boolean mayRun() {
        return refusals.isEmpty();
    }

    /**
     * The disk a VM attached to the newest source must attach once the merge is done, when that changes:
     * the destination, when the newest source has no child to re-point (it was the disk the VM ran on:
     * Hyper-V's Set-VMHardDiskDrive -Path). Empty when a child of it is re-pointed (the VM's disk stays
     * the same) and for a flatten (the sources stay).
     */
    public Optional<Path> reattachTo() {
        return intoNew || !childrenToRepoint.isEmpty() ? Optional.empty() : Optional.of(destination);
    }

    /** Every file the merge changes or removes: its sources, its destination, the children it re-points. */
    public List<Path> files() {
        List<Path> files = new ArrayList<>(sources);
        files.add(destination);
        files.addAll(childrenToRepoint);
        return files;
    }
}
