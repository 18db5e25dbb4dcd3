package io.chainmerge.disk.merge;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.io.Directories;
import io.chainmerge.disk.io.LockScope;
import io.chainmerge.disk.merge.MergeJournal.State;
import io.chainmerge.disk.merge.MergePlanner.Prepared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Merges differencing disks bottom-up, crash-safely.
 *
 * <p>A merge of sources S1 (newest) .. Sn into their ancestor D goes through the states of {@link
 * MergeJournal}: Sn first accepts D's new identity (VHDX parent_linkage2, spec note 12), then D takes
 * it, so the chain stays linked throughout. Copying writes into D only the sectors the sources define,
 * so at every instant the chain reads as it did: D's own view changes, but only S's children could see
 * that, and they are refused or re-pointed. Once everything is flushed, S1's children are re-pointed at
 * D and the sources are deleted, newest first, so what a crash leaves is always a valid chain.
 * Running the same merge again after a crash finishes it.
 *
 * <p>Flattening into a new file writes it under a temporary name and renames it when complete; the
 * sources are never written.
 */
public final class Merge {
    /**
     * A system property that sets the copy window in bytes (a power of two; 256 MiB unset), so crash
     * tests reach several window commits on small disks. Not a tuning knob.
     */
    public static final String WINDOW_PROPERTY = "chainmerge.copyWindow";

    private Merge() {}

    /** Decides what {@code request} would do and which guards refuse it; changes nothing. */
    public static MergePlan plan(MergeRequest request) throws IOException {
        try (LockScope scope = LockScope.begin("merge plan of " + request.child())) {
            Prepared prepared = MergePlanner.prepare(request, Access.READ, scope);
            if (prepared.chain() != null) {
                prepared.chain().close();
            }
            return prepared.plan();
        }
    }

    /**
     * What a caller checks of a merge's plan (its paths, say) once every file of it is held and before
     * anything is written; an exception here ends the merge with nothing changed.
     */
    @FunctionalInterface
    public interface PlanCheck {
        void check(MergePlan plan) throws IOException;
    }

    /**
     * Runs {@code request}: refuses with the first {@link io.chainmerge.disk.GuardRefusal}, or merges. Its
     * {@link MergeRequest#planCheck()} looks at the plan first. Every file of the merge stays locked from
     * the plan to the last source deleted.
     */
    public static MergeReport run(MergeRequest request, MergeProgress progress) throws IOException {
        long started = System.nanoTime();
        try (LockScope scope = LockScope.begin("merge of " + request.child())) {
            Prepared prepared = MergePlanner.prepare(request, request.dryRun() ? Access.READ : Access.WRITE, scope);
            Chain chain = prepared.chain();
            try {
                MergePlan plan = prepared.plan();
                request.planCheck().check(plan);
                if (!plan.mayRun()) {
                    throw plan.refusals().get(0);
                }
                if (request.dryRun()) {
                    return new MergeReport(plan, true, false, 0, 0, Duration.ZERO, 0, null, List.of(), List.of());
                }
                if (plan.intoNew()) {
                    return flatten(request, prepared, progress, started);
                }
                if (chain == null) {
                    return finish(prepared.journal(), plan, started);
                }
                return mergeInPlace(request, prepared, progress, started);
            } finally {
                if (chain != null) {
                    chain.close();
                }
            }
        }
    }

    private static MergeReport mergeInPlace(
            MergeRequest request, Prepared prepared, MergeProgress progress, long started) throws IOException {
        MergePlan plan = prepared.plan();
        Chain chain = prepared.chain();
        List<VirtualDisk> sources = chain.levels().subList(0, prepared.destinationIndex());
        VirtualDisk destination = chain.levels().get(prepared.destinationIndex());
        boolean resumed = prepared.journal() != null;
        long sizeBefore = destination.fileSize();

        MergeJournal journal = MergeJournal.begin(
                request.child(), plan.sources(), destination.path(), plan.childrenToRepoint(), prepared.newIdentity());
        sources.get(sources.size() - 1).acceptParentIdentity(prepared.newIdentity());
        CrashPoints.reach("merge.linked");
        destination.changeIdentity(prepared.newIdentity());
        CrashPoints.reach("merge.identity-changed");
        journal.advance(State.COPYING);

        WindowCopy.Copied copied = WindowCopy.copy(
                sources,
                destination.virtualSize(),
                destination,
                false,
                progress.throttle(request.rateBytesPerSecond()),
                progress,
                plan.payloadBytes());
        // MS-VHDX 2.6.1.2: merging replaces the parent's virtual-disk metadata with the child's.
        destination.adoptVirtualDiskId(sources.get(0).virtualDiskId());
        destination.commit();
        // What children link to from now on: the new identity, or the old one for a format that keeps
        // its identity through a merge (VHD, whose children record a single parent identity).
        UUID identity = destination.identity();
        long growth = destination.fileSize() - sizeBefore;
        journal.advance(State.FLUSHED);
        CrashPoints.reach("merge.flushed");

        LockScope.requireClaims(); // the steps that change other files come only while the chain is this run's
        List<Path> repointed = repoint(journal.children(), destination);
        journal.advance(State.REPOINTED);
        chain.close();
        List<Path> removed = removeSources(journal);
        return new MergeReport(
                plan,
                false,
                resumed,
                copied.dataBytes(),
                copied.zeroBytes(),
                elapsed(started),
                growth,
                identity,
                removed,
                repointed);
    }

    /**
     * Finishes a merge whose data is all in the destination: re-points what is left, removes what is
     * left. The destination is opened for writing so that the log the crashed run left in its header is
     * replayed and cleared, leaving a file every reader opens.
     */
    private static MergeReport finish(MergeJournal journal, MergePlan plan, long started) throws IOException {
        List<Path> repointed = List.of();
        UUID identity;
        try (VirtualDisk destination = DiskFiles.open(journal.destination(), Access.WRITE)) {
            identity = destination.identity();
            if (journal.state() == State.FLUSHED) {
                repointed = repoint(journal.children(), destination);
                journal.advance(State.REPOINTED);
            }
        }
        List<Path> removed = removeSources(journal);
        return new MergeReport(plan, false, true, 0, 0, elapsed(started), 0, identity, removed, repointed);
    }

    private static List<Path> repoint(List<Path> children, VirtualDisk destination) throws IOException {
        List<Path> done = new ArrayList<>();
        for (Path child : children) {
            try (VirtualDisk disk = DiskFiles.open(child, Access.WRITE)) {
                disk.setParent(destination);
            }
            done.add(child);
            CrashPoints.reach("merge.repointed");
        }
        return done;
    }

    /** Deletes the sources newest first: a crash leaves the older ones, still a valid chain down to D. */
    private static List<Path> removeSources(MergeJournal journal) throws IOException {
        List<Path> removed = new ArrayList<>();
        for (Path source : journal.sources()) {
            if (Files.deleteIfExists(source)) {
                Directories.force(source.getParent());
                removed.add(source);
                CrashPoints.reach("merge.source-removed");
            }
        }
        journal.advance(State.SOURCES_REMOVED);
        journal.delete();
        return removed;
    }

    private static MergeReport flatten(MergeRequest request, Prepared prepared, MergeProgress progress, long started)
            throws IOException {
        MergePlan plan = prepared.plan();
        Chain chain = prepared.chain();
        Path target = plan.destination();
        String name = target.getFileName().toString();
        int dot = name.lastIndexOf('.');
        Path partial = target.resolveSibling("." + name.substring(0, dot) + "-partial" + name.substring(dot));
        Files.deleteIfExists(partial); // left by an interrupted flatten: start over
        WindowCopy.Copied copied;
        try (VirtualDisk out = DiskFiles.create(partial, prepared.newDiskSpec())) {
            copied = WindowCopy.copy(
                    chain.levels(),
                    chain.virtualSize(),
                    out,
                    true,
                    progress.throttle(request.rateBytesPerSecond()),
                    progress,
                    plan.payloadBytes());
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(partial);
            throw e;
        }
        CrashPoints.reach("merge.flatten-written");
        LockScope.rename(partial, target);
        Directories.force(target.getParent());
        return new MergeReport(
                plan,
                false,
                false,
                copied.dataBytes(),
                copied.zeroBytes(),
                elapsed(started),
                Files.size(target),
                null,
                List.of(),
                List.of());
    }

    private static Duration elapsed(long started) {
        return Duration.ofNanos(System.nanoTime() - started);
    }
}
