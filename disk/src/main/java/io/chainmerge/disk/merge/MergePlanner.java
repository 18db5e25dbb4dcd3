package io.chainmerge.disk.merge;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import io.chainmerge.disk.SpaceEstimator;
import io.chainmerge.disk.UnsupportedDiskException;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.Volume;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.io.Guids;
import io.chainmerge.disk.io.LockScope;
import io.chainmerge.disk.scan.ScanReport;
import io.chainmerge.disk.scan.ScannedDisk;
import io.chainmerge.disk.scan.VolumeScan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Turns a {@link MergeRequest} into a plan: opens the chain (which checks every link), finds the
 * destination, finds the other children of every disk the merge changes, and computes the exact growth
 * of the destination. The one place a chain becomes a merge plan; it writes nothing.
 */
final class MergePlanner {

    /**
     * A plan with what running it needs. {@code chain} is open (closed by the caller) unless the merge
     * is being finished from a journal past {@link MergeJournal.State#FLUSHED}.
     */
    record Prepared(
            MergePlan plan,
            Chain chain,
            int destinationIndex,
            MergeJournal journal,
            UUID newIdentity,
            DiskSpec newDiskSpec) {}

    private MergePlanner() {}

    /**
     * Plans {@code request} inside {@code scope}, which from here on holds every file of the chain: the
     * newest disk first, before its journal is read, so no other merge of the chain can be reading or
     * writing the journal meanwhile; then, for a merge that writes, every level exclusively, before the
     * first byte is read for the plan.
     */
    static Prepared prepare(MergeRequest request, Access access, LockScope scope) throws IOException {
        Path child = request.child();
        if (Files.exists(child, LinkOption.NOFOLLOW_LINKS)) {
            scope.hold(child, access); // a link that leads nowhere is refused here, saying why
        }
        Optional<MergeJournal> journal = request.intoNew() == null ? MergeJournal.read(child) : Optional.empty();
        if (journal.isPresent() && journal.get().state().compareTo(MergeJournal.State.FLUSHED) >= 0) {
            holdJournaled(journal.get(), access, scope);
            // Read again under the locks: a merge that held them a moment ago may have finished it.
            journal = MergeJournal.read(child);
            if (journal.isEmpty()) {
                throw new NoSuchFileException(child.toString());
            }
            return fromJournal(request, journal.get());
        }
        if (!Files.exists(child)) {
            throw new NoSuchFileException(child.toString());
        }
        if (access == Access.WRITE) {
            for (Path level : Chain.paths(child)) {
                scope.hold(level, Access.WRITE);
            }
        }
        checkWhole(child);
        Chain chain = Chain.open(child, access);
        try {
            if (request.intoNew() != null) {
                return flatten(request, chain);
            }
            return inPlace(request, chain, journal.orElse(null), access, scope);
        } catch (IOException | RuntimeException e) {
            chain.close();
            throw e;
        }
    }

    /** What a merge past {@link MergeJournal.State#FLUSHED} still changes: its destination, and what is left of its sources and the children it re-points. */
    private static void holdJournaled(MergeJournal journal, Access access, LockScope scope) throws IOException {
        scope.hold(journal.destination(), access);
        for (Path file : journal.children()) {
            if (Files.exists(file)) {
                scope.hold(file, access);
            }
        }
        for (Path file : journal.sources()) {
            if (Files.exists(file)) {
                scope.hold(file, access);
            }
        }
    }

    /**
     * Bad input is refused before any file of the chain is written: the chain is first opened
     * read-only (a writable open would replay a pending log into its file) and every level verified
     * whole, since opening checks only what reading needs and a merge reads and writes far more.
     */
    private static void checkWhole(Path child) throws IOException {
        try (Chain chain = Chain.open(child, Access.READ)) {
            chain.verify();
        }
    }

    private static Prepared inPlace(
            MergeRequest request, Chain chain, MergeJournal journal, Access access, LockScope scope)
            throws IOException {
        if (chain.depth() < 2) {
            throw new IllegalArgumentException(
                    chain.top().path() + " is not a differencing disk: it has no parent to merge into");
        }
        Path wanted = journal != null ? journal.destination() : request.destination();
        int destinationIndex = 1;
        if (wanted != null) {
            destinationIndex = Files.exists(wanted) ? chain.indexOf(wanted) : -1;
            if (destinationIndex < 1) {
                throw new IllegalArgumentException("%s is not an ancestor of %s; its chain is %s"
                        .formatted(
                                wanted,
                                chain.top().path(),
                                chain.levels().stream().map(VirtualDisk::path).toList()));
            }
        }
        if (journal != null
                && request.destination() != null
                && chain.indexOf(request.destination()) != destinationIndex) {
            throw new IllegalArgumentException(
                    "an interrupted merge of %s into %s is pending (%s): run it again with that destination to finish it"
                            .formatted(chain.top().path(), journal.destination(), journal.file()));
        }
        List<VirtualDisk> sources = chain.levels().subList(0, destinationIndex);
        VirtualDisk destination = chain.levels().get(destinationIndex);
        for (VirtualDisk source : sources) {
            if (source.virtualSize() != destination.virtualSize()) {
                throw new UnsupportedDiskException(
                        source.path(),
                        "its virtual size (%d) differs from the destination's (%d, %s); merging a resized disk is not supported"
                                .formatted(source.virtualSize(), destination.virtualSize(), destination.path()));
            }
        }

        List<GuardRefusal> refusals = new ArrayList<>();
        List<Path> children = childrenGuard(request, chain, destinationIndex, refusals);
        for (Path child : children) {
            scope.hold(child, access); // re-pointed at the end: nobody may start using it meanwhile
        }

        SpaceEstimator estimator = destination.spaceEstimator();
        long[] payload = {0};
        WindowCopy.forEachPiece(sources, destination.virtualSize(), WindowCopy.windowFor(chain.levels()), piece -> {
            estimator.add(
                    piece.extent().offset(),
                    piece.extent().length(),
                    piece.extent().isZero());
            if (!piece.extent().isZero()) {
                payload[0] += piece.extent().length();
            }
        });
        SpaceEstimate space = space(destination.path(), estimator.growthBytes(), true, request.reserve());
        refuseIfNoRoom(space, refusals);

        UUID newIdentity =
                journal != null ? journal.newIdentity() : identityFor(sources.get(sources.size() - 1), destination);
        MergePlan plan = new MergePlan(
                paths(sources),
                destination.path(),
                false,
                children,
                payload[0],
                space,
                refusals,
                journal == null ? null : journal.file());
        return new Prepared(plan, chain, destinationIndex, journal, newIdentity, null);
    }

    /**
     * The destination's identity after the merge. A destination whose identity the lowest source accepts
     * without having recorded it took it in a merge whose journal is gone: finishing that merge keeps it,
     * because replacing the identity the source accepts before the destination changes would orphan the
     * chain in between.
     */
    private static UUID identityFor(VirtualDisk lowestSource, VirtualDisk destination) {
        UUID current = destination.identity();
        UUID recorded = lowestSource.parentLink().orElseThrow().recordedIdentity();
        return current.equals(recorded) ? Guids.random() : current;
    }

    /**
     * Children of the newest source are re-pointed at the destination: they read the same through it.
     * Any other child of a disk the merge changes (the destination, or a source it deletes) would be
     * orphaned: refused.
     */
    private static List<Path> childrenGuard(
            MergeRequest request, Chain chain, int destinationIndex, List<GuardRefusal> refusals) throws IOException {
        Set<Path> roots = new LinkedHashSet<>();
        if (request.scanRoots().isEmpty()) {
            for (VirtualDisk disk : chain.levels()) {
                roots.add(disk.path().getParent());
            }
        } else {
            roots.addAll(request.scanRoots());
        }
        ScanReport scan = VolumeScan.scan(new ArrayList<>(roots));
        if (!scan.problems().isEmpty()) {
            // A disk file the scan cannot read may be a child of a disk this merge changes.
            List<String> unreadable = scan.problems().stream()
                    .map(p -> p.path() + " (" + p.message() + ")")
                    .toList();
            refusals.add(new GuardRefusal(
                    Guard.SIBLINGS,
                    scan.problems().get(0).path(),
                    "cannot tell whether these disk files are children the merge would orphan: %s; move them away or name the folders to search with --scan"
                            .formatted(unreadable),
                    Map.of(
                            "unreadable",
                            scan.problems().stream()
                                    .map(p -> p.path().toString())
                                    .toList())));
        }
        ScannedDisk newest = scan.find(chain.top().path());

        List<Path> toRepoint = newest == null ? List.of() : newest.children();
        for (int level = 1; level <= destinationIndex; level++) {
            VirtualDisk disk = chain.levels().get(level);
            ScannedDisk scanned = scan.find(disk.path());
            if (scanned == null) {
                continue;
            }
            Path above = chain.levels().get(level - 1).path();
            List<Path> others = scanned.children().stream()
                    .filter(child -> !child.equals(above))
                    .toList();
            if (!others.isEmpty()) {
                Map<String, Object> figures = new LinkedHashMap<>();
                figures.put("disk", disk.path().toString());
                figures.put("otherChildren", others.stream().map(Path::toString).toList());
                refusals.add(new GuardRefusal(
                        Guard.SIBLINGS,
                        disk.path(),
                        "%s has other children %s that this merge would orphan (it %s)"
                                .formatted(
                                        disk.path(),
                                        others,
                                        level == destinationIndex ? "changes its data" : "deletes it"),
                        figures));
            }
        }
        return toRepoint;
    }

    private static Prepared flatten(MergeRequest request, Chain chain) throws IOException {
        Path target = request.intoNew().toAbsolutePath().normalize();
        if (Files.exists(target)) {
            throw new java.nio.file.FileAlreadyExistsException(target.toString());
        }
        VirtualDisk top = chain.top();
        if (io.chainmerge.disk.DiskFormat.fromFileName(target).orElse(null) != top.format()) {
            throw new IllegalArgumentException("%s: a flattened %s chain is written as %s too (name it %s)"
                    .formatted(
                            target,
                            top.format(),
                            top.format(),
                            String.join(" or ", top.format().extensions())));
        }
        DiskSpec spec = new DiskSpec(
                request.intoNewType(),
                top.virtualSize(),
                top.blockSize(),
                top.logicalSectorSize(),
                top.physicalSectorSize(),
                top.virtualDiskId());
        long blockSize = top.blockSize();
        long[] payload = {0};
        long[] touchedBlocks = {0};
        long[] lastBlock = {-1};
        WindowCopy.forEachPiece(chain.levels(), top.virtualSize(), WindowCopy.windowFor(chain.levels()), piece -> {
            if (piece.extent().isZero()) {
                return;
            }
            payload[0] += piece.extent().length();
            long first = Math.max(piece.extent().offset() / blockSize, lastBlock[0] + 1);
            long last = (piece.extent().end() - 1) / blockSize;
            if (last >= first) {
                touchedBlocks[0] += last - first + 1;
                lastBlock[0] = last;
            }
        });
        long required = DiskFiles.sizeOfNewFile(target, spec, touchedBlocks[0]);
        // A dynamic copy skips blocks that turn out to hold only zeros: it needs at most this much.
        SpaceEstimate space = space(target, required, request.intoNewType() == DiskType.FIXED, request.reserve());
        List<GuardRefusal> refusals = new ArrayList<>();
        refuseIfNoRoom(space, refusals);
        MergePlan plan =
                new MergePlan(paths(chain.levels()), target, true, List.of(), payload[0], space, refusals, null);
        return new Prepared(plan, chain, chain.depth(), null, null, spec);
    }

    private static Prepared fromJournal(MergeRequest request, MergeJournal journal) throws IOException {
        if (request.destination() != null
                && !request.destination().toAbsolutePath().normalize().equals(journal.destination())
                && !(Files.exists(request.destination())
                        && request.destination().toRealPath().equals(journal.destination()))) {
            throw new IllegalArgumentException(
                    "an interrupted merge of %s into %s is pending (%s): run it again with that destination to finish it"
                            .formatted(request.child(), journal.destination(), journal.file()));
        }
        SpaceEstimate space = space(journal.destination(), 0, true, request.reserve());
        MergePlan plan = new MergePlan(
                journal.sources(),
                journal.destination(),
                false,
                journal.children(),
                0,
                space,
                List.of(),
                journal.file());
        return new Prepared(plan, null, -1, journal, journal.newIdentity(), null);
    }

    private static SpaceEstimate space(Path target, long required, boolean exact, Reserve reserve) throws IOException {
        Path place = target.getParent();
        long total = Volume.totalBytes(place);
        return new SpaceEstimate(
                target,
                Volume.of(place).mountPoint(),
                required,
                Volume.usableBytes(place),
                reserve.bytesOn(total),
                exact);
    }

    private static void refuseIfNoRoom(SpaceEstimate space, List<GuardRefusal> refusals) {
        if (space.fits()) {
            return;
        }
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("requiredBytes", space.requiredBytes());
        figures.put("availableBytes", space.availableBytes());
        figures.put("usableBytes", space.usableBytes());
        figures.put("reserveBytes", space.reserveBytes());
        figures.put("volume", space.volume().toString());
        refusals.add(new GuardRefusal(
                Guard.SPACE,
                space.target(),
                "%s would grow by %d bytes, but its volume %s has %d usable bytes of which %d must stay free (%d available)"
                        .formatted(
                                space.target(),
                                space.requiredBytes(),
                                space.volume(),
                                space.usableBytes(),
                                space.reserveBytes(),
                                space.availableBytes()),
                figures));
    }

    private static List<Path> paths(List<VirtualDisk> disks) {
        return disks.stream().map(VirtualDisk::path).toList();
    }
}
