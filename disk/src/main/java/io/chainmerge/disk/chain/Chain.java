package io.chainmerge.disk.chain;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import io.chainmerge.disk.InvalidChainException;
import io.chainmerge.disk.ParentLink;
import io.chainmerge.disk.ParentPaths;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A disk and its ancestors, open: level 0 is the disk asked for, the last level the root. Opening
 * checks every link: the parent is found at a path the child records and carries an identity the child
 * accepts, has the same format and sector size, and appears only once.
 */
public final class Chain implements Closeable {
    /** Deeper than any chain Hyper-V or a backup product makes; deeper than this is a loop or damage. */
    public static final int MAX_DEPTH = 256;

    private final List<VirtualDisk> levels;

    private Chain(List<VirtualDisk> levels) {
        this.levels = List.copyOf(levels);
    }

    /** Opens {@code top} and every ancestor with the same access. */
    public static Chain open(Path top, Access access) throws IOException {
        return open(top, access, access);
    }

    /** Opens {@code top} with {@code topAccess} and its ancestors with {@code access}. */
    public static Chain open(Path top, Access topAccess, Access access) throws IOException {
        List<VirtualDisk> levels = new ArrayList<>();
        Set<Path> seen = new HashSet<>();
        try {
            VirtualDisk disk = DiskFiles.open(top, topAccess);
            levels.add(disk);
            seen.add(disk.path());
            while (disk.parentLink().isPresent()) {
                if (levels.size() >= MAX_DEPTH) {
                    throw new InvalidChainException(top, top + ": the chain is deeper than " + MAX_DEPTH + " levels");
                }
                VirtualDisk parent = openParent(disk, disk.parentLink().get(), access, seen);
                levels.add(parent);
                seen.add(parent.path());
                disk = parent;
            }
            return new Chain(levels);
        } catch (IOException | RuntimeException e) {
            closeAll(levels, e);
            throw e;
        }
    }

    /**
     * The files of {@code top}'s chain, top first, found without locking any (a {@link Access#PEEK}):
     * what an operation holds before it opens them for its work.
     */
    public static List<Path> paths(Path top) throws IOException {
        try (Chain chain = open(top, Access.PEEK)) {
            return chain.levels().stream().map(VirtualDisk::path).toList();
        }
    }

    private static VirtualDisk openParent(VirtualDisk child, ParentLink link, Access access, Set<Path> seen)
            throws IOException {
        Map<Path, String> mismatches = new LinkedHashMap<>();
        List<Path> candidates = ParentPaths.candidates(child.path(), link);
        for (Path candidate : candidates) {
            if (!Files.isRegularFile(candidate)) {
                continue;
            }
            Path real = candidate.toRealPath();
            if (seen.contains(real)) {
                throw new InvalidChainException(
                        child.path(),
                        child.path() + ": parent-locator loop: its parent " + real + " is already in the chain");
            }
            VirtualDisk parent = DiskFiles.open(real, access);
            if (child.format() != parent.format()) {
                // Never the parent, whatever identity it carries: refused as invalid, as a scan reports it.
                parent.close();
                throw new InvalidChainException(
                        child.path(),
                        "%s: a %s differencing disk cannot have the %s parent %s"
                                .formatted(child.path(), child.format(), parent.format(), parent.path()));
            }
            if (link.accepts(parent.identity())) {
                checkSectorSize(child, parent);
                return parent;
            }
            mismatches.put(real, parent.identity().toString());
            parent.close();
        }
        if (!mismatches.isEmpty()) {
            Map.Entry<Path, String> first = mismatches.entrySet().iterator().next();
            throw new GuardRefusal(
                    Guard.ORPHANED,
                    child.path(),
                    "%s: orphaned: its parent %s was modified after the child was made (the parent's identity is %s, the child recorded %s)"
                            .formatted(child.path(), first.getKey(), first.getValue(), link.acceptedIdentities()),
                    Map.of(
                            "parent", first.getKey().toString(),
                            "parentIdentity", first.getValue(),
                            "recordedIdentities",
                                    link.acceptedIdentities().stream()
                                            .map(Object::toString)
                                            .toList()));
        }
        throw new GuardRefusal(
                Guard.MISSING_PARENT,
                child.path(),
                "%s: its parent is missing: looked for %s (recorded as %s)"
                        .formatted(
                                child.path(),
                                candidates,
                                link.paths().stream().map(p -> p.value()).toList()),
                Map.of("triedPaths", candidates.stream().map(Path::toString).toList()));
    }

    private static void checkSectorSize(VirtualDisk child, VirtualDisk parent) throws IOException {
        if (child.logicalSectorSize() != parent.logicalSectorSize()) {
            parent.close();
            throw new InvalidChainException(
                    child.path(),
                    "%s: logical sector size %d differs from its parent's (%d, %s)"
                            .formatted(
                                    child.path(),
                                    child.logicalSectorSize(),
                                    parent.logicalSectorSize(),
                                    parent.path()));
        }
    }

    /** Level 0 is the disk the chain was opened from; the last is the root. */
    public List<VirtualDisk> levels() {
        return levels;
    }

    public VirtualDisk top() {
        return levels.get(0);
    }

    public VirtualDisk root() {
        return levels.get(levels.size() - 1);
    }

    public int depth() {
        return levels.size();
    }

    /** The level of the file at {@code path}, or -1. */
    public int indexOf(Path path) throws IOException {
        Path real = path.toRealPath();
        for (int i = 0; i < levels.size(); i++) {
            if (levels.get(i).path().equals(real)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Checks every level whole (every allocation entry, no structures overlapping), beyond what opening
     * checks for reading: the one validation every command that reads or merges a chain applies, so
     * none of them accepts a file another refuses as corrupt.
     */
    public void verify() throws IOException {
        for (VirtualDisk disk : levels) {
            disk.verify();
        }
    }

    /** The size of the virtual disk the chain presents: its top's. */
    public long virtualSize() {
        return top().virtualSize();
    }

    @Override
    public void close() throws IOException {
        IOException failure = null;
        for (VirtualDisk disk : levels) {
            try {
                disk.close();
            } catch (IOException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static void closeAll(List<VirtualDisk> disks, Exception cause) {
        for (VirtualDisk disk : disks) {
            try {
                disk.close();
            } catch (IOException e) {
                cause.addSuppressed(e);
            }
        }
    }
}
