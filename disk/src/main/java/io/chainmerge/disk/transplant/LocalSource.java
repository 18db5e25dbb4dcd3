package io.chainmerge.disk.transplant;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.inuse.InUseCheck;
import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.io.Directories;
import io.chainmerge.disk.io.LockedFile;
import io.chainmerge.disk.io.ReadAhead;
import io.chainmerge.disk.io.Sha256;
import io.chainmerge.disk.merge.Throttle;
import io.chainmerge.disk.scan.ScanReport;
import io.chainmerge.disk.scan.ScannedDisk;
import io.chainmerge.disk.scan.VolumeScan;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Files of a chain on this host, as a transplant's source: the files must be one run of a chain,
 * newest first, and neither they nor the children that stay may be in use. Every one of them is held
 * under an exclusive lock until the source is closed, so nothing changes a file while it is copied.
 */
public final class LocalSource implements TransplantSource {
    /** As a merge copies: large enough for sequential throughput, {@link ReadAhead#DEPTH} in flight. */
    private static final int CHUNK = 8 << 20;

    private final List<TransplantFile> files;
    private final Path parentOfOldest;
    private final Map<Path, Path> childrenLeftBehind;
    private final Map<Path, LockedFile> locked;

    private LocalSource(
            List<TransplantFile> files,
            Path parentOfOldest,
            Map<Path, Path> childrenLeftBehind,
            Map<Path, LockedFile> locked) {
        this.files = files;
        this.parentOfOldest = parentOfOldest;
        this.childrenLeftBehind = childrenLeftBehind;
        this.locked = locked;
    }

    /**
     * Checks and locks {@code disks} (newest first, each the parent of the one before it) for a copy
     * into {@code targetFolder}.
     */
    public static LocalSource open(List<Path> disks, Path targetFolder) throws IOException {
        return open(disks, targetFolder, InUseCheck.NONE);
    }

    /** As {@link #open(List, Path)}, refused {@code in-use} when {@code inUse} finds any file it locked in use. */
    public static LocalSource open(List<Path> disks, Path targetFolder, InUseCheck inUse) throws IOException {
        List<Path> real = new ArrayList<>();
        for (Path disk : disks) {
            real.add(disk.toRealPath());
        }
        Map<Path, LockedFile> locked = new LinkedHashMap<>();
        try {
            // Exclusive locks on the files and every disk built on them: a VM, qemu or a merge holding any
            // lock there uses the chain, and Hyper-V's rule is that such a disk is not moved. The files
            // first, before the checks read them; all held until the copies are checked (to the last
            // source removed, inside a transplant's lock scope), so nothing starts using the chain meanwhile.
            for (Path file : real) {
                locked.put(file, LockedFile.open(file, Access.WRITE));
            }
            Path parentOfOldest = checkRun(real);
            ScanReport scan = scanFolders(real);
            Map<Path, Path> children = childrenOf(real, scan);
            for (Path descendant : descendantsOf(real, scan)) {
                if (!locked.containsKey(descendant)) {
                    locked.put(descendant, LockedFile.open(descendant, Access.WRITE));
                }
            }
            if (parentOfOldest != null) {
                // What the oldest copy will link to: unchanged until it does, or the link would be refused.
                locked.put(parentOfOldest, LockedFile.open(parentOfOldest, Access.READ));
            }
            inUse.check(new ArrayList<>(locked.keySet()));
            List<TransplantFile> files = new ArrayList<>();
            for (Path file : real) {
                files.add(new TransplantFile(
                        file,
                        targetFolder.resolve(file.getFileName()),
                        locked.get(file).size(),
                        null));
            }
            return new LocalSource(List.copyOf(files), parentOfOldest, children, locked);
        } catch (IOException | RuntimeException e) {
            closeAll(locked.values());
            throw e;
        }
    }

    /** The disks must be consecutive levels of one chain, newest first; returns the parent of the oldest. */
    public static Path checkRun(List<Path> disks) throws IOException {
        try (Chain chain = Chain.open(disks.get(0), Access.READ)) {
            List<VirtualDisk> levels = chain.levels();
            for (int i = 0; i < disks.size(); i++) {
                if (i >= levels.size() || !levels.get(i).path().equals(disks.get(i))) {
                    throw new IllegalArgumentException(
                            "%s is not the parent of %s: a transplant moves consecutive disks of one chain, newest first"
                                    .formatted(disks.get(i), disks.get(i - 1)));
                }
            }
            return disks.size() < levels.size() ? levels.get(disks.size()).path() : null;
        }
    }

    /**
     * Every disk in the folders of {@code disks} whose parent is one of them and that is not one of them,
     * with the parent it links to.
     */
    public static Map<Path, Path> childrenOf(List<Path> disks) throws IOException {
        return childrenOf(disks, scanFolders(disks));
    }

    /**
     * The folders of {@code disks}, scanned. A file there that cannot be read might be a child of one of
     * them: it is refused, as a merge refuses it.
     */
    private static ScanReport scanFolders(List<Path> disks) throws IOException {
        Set<Path> folders = new LinkedHashSet<>();
        for (Path disk : disks) {
            folders.add(disk.getParent());
        }
        ScanReport scan = VolumeScan.scan(new ArrayList<>(folders));
        if (!scan.problems().isEmpty()) {
            throw new GuardRefusal(
                    Guard.SIBLINGS,
                    scan.problems().get(0).path(),
                    "cannot tell whether %s are children the transplant would leave without a parent: %s"
                            .formatted(
                                    scan.problems().stream()
                                            .map(p -> p.path().toString())
                                            .toList(),
                                    scan.problems().get(0).message()));
        }
        return scan;
    }

    private static Map<Path, Path> childrenOf(List<Path> disks, ScanReport scan) throws IOException {
        Set<Path> moved = new LinkedHashSet<>(disks);
        Map<Path, Path> children = new LinkedHashMap<>();
        for (Path disk : disks) {
            ScannedDisk scanned = scan.find(disk);
            if (scanned == null) {
                continue;
            }
            for (Path child : scanned.children()) {
                Path real = child.toRealPath();
                if (!moved.contains(real)) {
                    children.put(real, disk);
                }
            }
        }
        return children;
    }

    /** Every disk the scan found built on {@code disks}, at any depth. */
    private static Set<Path> descendantsOf(List<Path> disks, ScanReport scan) throws IOException {
        Set<Path> found = new LinkedHashSet<>();
        List<Path> pending = new ArrayList<>(disks);
        while (!pending.isEmpty()) {
            ScannedDisk scanned = scan.find(pending.remove(pending.size() - 1));
            if (scanned == null) {
                continue;
            }
            for (Path child : scanned.children()) {
                if (found.add(child.toRealPath())) {
                    pending.add(child);
                }
            }
        }
        return found;
    }

    @Override
    public List<TransplantFile> files() {
        return files;
    }

    @Override
    public Path parentOfOldest() {
        return parentOfOldest;
    }

    @Override
    public Map<Path, Path> childrenLeftBehind() {
        return childrenLeftBehind;
    }

    /**
     * Copies the file and digests what it copies in one pass: a {@link ReadAhead} thread reads the
     * source in chunks, past the page cache, while this thread digests and writes the chunk before.
     */
    @Override
    public String copy(TransplantFile file, Path partial, Throttle throttle, CopyProgress progress) throws IOException {
        LockedFile source = locked.get(file.source());
        MessageDigest digest = Sha256.newDigest();
        if (!Files.exists(partial)) {
            Files.createFile(partial);
        }
        // Through the table of open files like every disk file: the copy stays locked from its first byte.
        try (LockedFile out = LockedFile.open(partial, Access.WRITE);
                ReadAhead<ByteBuffer> reads = new ReadAhead<>(
                        "chainmerge-read-ahead " + file.source().getFileName(),
                        ReadAhead.DEPTH,
                        CHUNK,
                        source::readAll)) {
            out.truncate(0);
            long position = 0;
            for (ByteBuffer buffer = reads.next(); buffer != null; buffer = reads.next()) {
                int read = buffer.remaining();
                throttle.acquire(read);
                digest.update(buffer.duplicate());
                out.write(buffer, position);
                reads.release(buffer);
                position += read;
                progress.copied(read);
                CrashPoints.reach("transplant.copying");
            }
            out.force();
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    @Override
    public void remove(TransplantFile file) throws IOException {
        removeSource(file);
    }

    /**
     * Removes a source whose copy is linked: under an exclusive lock, so a file someone opened meanwhile
     * stays (refused, in use), and its folder flushed.
     */
    public static void removeSource(TransplantFile file) throws IOException {
        Path source = file.source();
        if (!Files.exists(source)) {
            return;
        }
        try (LockedFile ignored = LockedFile.open(source, Access.WRITE)) {
            Files.delete(source);
        }
        Directories.force(source.getParent());
    }

    @Override
    public void close() throws IOException {
        closeAll(locked.values());
    }

    private static void closeAll(Iterable<LockedFile> files) throws IOException {
        IOException first = null;
        for (LockedFile file : files) {
            try {
                file.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
