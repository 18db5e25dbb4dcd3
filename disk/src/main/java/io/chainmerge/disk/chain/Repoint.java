package io.chainmerge.disk.chain;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import io.chainmerge.disk.InvalidChainException;
import io.chainmerge.disk.ParentLink;
import io.chainmerge.disk.ParentPaths;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.inuse.InUseCheck;
import io.chainmerge.disk.io.LockScope;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Points a differencing disk at its parent's new location (Set-VHD -ParentPath). Only the same disk is
 * accepted: a parent whose identity the child does not accept has different data, and linking to it
 * would give the child's sectors a different disk underneath.
 */
public final class Repoint {
    private Repoint() {}

    public static RepointReport setParent(Path child, Path newParent) throws IOException {
        return setParent(child, newParent, InUseCheck.NONE);
    }

    /** As {@link #setParent(Path, Path)}, refused {@code in-use} when {@code inUse} finds either file in use. */
    public static RepointReport setParent(Path child, Path newParent, InUseCheck inUse) throws IOException {
        Path parentPath = newParent.toRealPath();
        Path childPath = child.toRealPath();
        if (parentPath.equals(childPath)) {
            throw new InvalidChainException(childPath, childPath + " cannot be its own parent");
        }
        try (LockScope scope = LockScope.begin("set-parent of " + childPath)) {
            // Both held before either is read: the parent's identity is checked and recorded under its lock.
            scope.hold(childPath, Access.WRITE);
            scope.hold(parentPath, Access.READ);
            inUse.check(List.of(childPath, parentPath));
            refuseLoop(childPath, parentPath);
            return setParentHeld(childPath, parentPath);
        }
    }

    private static RepointReport setParentHeld(Path childPath, Path parentPath) throws IOException {
        try (VirtualDisk disk = DiskFiles.open(childPath, Access.WRITE);
                VirtualDisk parent = DiskFiles.open(parentPath, Access.READ)) {
            ParentLink link = disk.parentLink()
                    .orElseThrow(() -> new IllegalArgumentException(
                            childPath + " is not a differencing disk: it has no parent to set"));
            if (parent.format() != disk.format()) {
                throw new InvalidChainException(
                        childPath,
                        "%s: a %s differencing disk cannot have the %s parent %s"
                                .formatted(childPath, disk.format(), parent.format(), parentPath));
            }
            if (!link.accepts(parent.identity())) {
                Map<String, Object> figures = new LinkedHashMap<>();
                figures.put("parent", parentPath.toString());
                figures.put("parentIdentity", parent.identity().toString());
                figures.put(
                        "recordedIdentities",
                        link.acceptedIdentities().stream().map(Object::toString).toList());
                throw new GuardRefusal(
                        Guard.NOT_SAME_PARENT,
                        childPath,
                        "%s is not the disk %s was made from: its identity is %s, the child recorded %s; the child is left as it was"
                                .formatted(parentPath, childPath, parent.identity(), link.acceptedIdentities()),
                        figures);
            }
            if (parent.logicalSectorSize() != disk.logicalSectorSize()) {
                throw new InvalidChainException(
                        childPath,
                        "%s: logical sector size %d differs from %s's (%d)"
                                .formatted(
                                        childPath, disk.logicalSectorSize(), parentPath, parent.logicalSectorSize()));
            }
            Optional<Path> before = ParentPaths.firstExisting(childPath, link);
            ParentLink linkBefore = link;
            List<String> notes = disk.parentRecordMismatches(parent);
            disk.setParent(parent);
            boolean changed = !disk.parentLink().orElseThrow().equals(linkBefore)
                    || before.map(p -> !p.equals(parentPath)).orElse(true)
                    || !notes.isEmpty();
            return new RepointReport(childPath, parentPath, parent.identity(), changed, notes);
        }
    }

    /** The new parent must not descend from the child: that would make a loop of the chain. */
    private static void refuseLoop(Path child, Path parent) throws IOException {
        Path at = parent;
        for (int depth = 0; depth < Chain.MAX_DEPTH; depth++) {
            Optional<Path> up;
            try (VirtualDisk disk = DiskFiles.open(at, Access.READ)) {
                up = disk.parentLink().isPresent()
                        ? ParentPaths.firstExisting(
                                disk.path(), disk.parentLink().get())
                        : Optional.empty();
            }
            if (up.isEmpty()) {
                return;
            }
            at = up.get().toRealPath();
            if (at.equals(child)) {
                throw new InvalidChainException(
                        child, "%s descends from %s: making it the parent would make a loop".formatted(parent, child));
            }
        }
    }
}
