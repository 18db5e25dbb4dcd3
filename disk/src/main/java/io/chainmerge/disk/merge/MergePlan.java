package io.chainmerge.disk.merge;

import io.chainmerge.disk.GuardRefusal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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

    /** Every file the merge changes or removes: its sources, its destination, the children it re-points. */
    public List<Path> files() {
        List<Path> files = new ArrayList<>(sources);
        files.add(destination);
        files.addAll(childrenToRepoint);
        return files;
    }
}
