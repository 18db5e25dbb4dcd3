package io.chainmerge.disk.scan;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskFormat;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.ErrorReport;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.ParentLink;
import io.chainmerge.disk.ParentPaths;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.Volume;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.merge.MergeJournal;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Finds every disk file under some folders and links them into chain trees. Reads headers and
 * metadata only, never allocation tables, so thousands of files scan quickly. A parent does not know
 * its children: scanning is the only way to find them.
 */
public final class VolumeScan {
    private VolumeScan() {}

    /** What one file's headers say, before linking. */
    private record Header(
            Path path,
            DiskFormat format,
            DiskType type,
            long virtualSize,
            long fileSize,
            int blockSize,
            int logicalSectorSize,
            UUID identity,
            UUID virtualDiskId,
            ParentLink parentLink) {}

    /** How a file links to its parent. */
    private record Link(LinkStatus status, Path parent, String problem) {}

    public static ScanReport scan(List<Path> roots) throws IOException {
        TreeSet<Path> diskFiles = new TreeSet<>();
        TreeSet<Path> journals = new TreeSet<>();
        List<Path> realRoots = new ArrayList<>();
        for (Path root : roots) {
            Path real = root.toRealPath();
            realRoots.add(real);
            collect(real, diskFiles, journals);
        }

        Map<Path, Header> headers = new LinkedHashMap<>();
        List<ScanProblem> problems = new ArrayList<>();
        for (Path file : diskFiles) {
            try {
                headers.put(file, readHeader(file));
            } catch (IOException | RuntimeException e) {
                problems.add(problem(file, e));
            }
        }

        Map<Path, Link> links = new HashMap<>();
        Map<Path, List<Path>> children = new HashMap<>();
        for (Header header : headers.values()) {
            Link link = link(header, headers);
            links.put(header.path, link);
            if (link.parent != null) {
                children.computeIfAbsent(link.parent, p -> new ArrayList<>()).add(header.path);
            }
        }

        List<ScannedDisk> disks = new ArrayList<>();
        for (Header header : headers.values()) {
            Link link = links.get(header.path);
            int depth = 1;
            Path root = link.status == LinkStatus.ROOT ? header.path : null;
            Set<Path> seen = new HashSet<>();
            Path at = header.path;
            while (links.containsKey(at) && links.get(at).parent != null && seen.add(at)) {
                at = links.get(at).parent;
                depth++;
                Link up = links.get(at);
                root = up == null ? null : up.status == LinkStatus.ROOT ? at : root;
            }
            disks.add(new ScannedDisk(
                    header.path,
                    header.format,
                    header.type,
                    header.virtualSize,
                    header.fileSize,
                    header.blockSize,
                    header.identity,
                    header.virtualDiskId,
                    link.status,
                    link.parent,
                    children.getOrDefault(header.path, List.of()),
                    depth,
                    root,
                    link.problem));
        }
        return new ScanReport(
                realRoots, disks, volumes(realRoots, headers.keySet()), problems, new ArrayList<>(journals));
    }

    private static void collect(Path root, Set<Path> diskFiles, Set<Path> journals) throws IOException {
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                if (attributes.isRegularFile()) {
                    if (DiskFormat.isDiskFileName(file)) {
                        diskFiles.add(file);
                    } else if (MergeJournal.isJournal(file)) {
                        journals.add(file);
                    }
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE; // an unreadable folder is not the scan's business
            }
        });
    }

    private static Header readHeader(Path file) throws IOException {
        try (VirtualDisk disk = DiskFiles.open(file, Access.PEEK)) {
            return new Header(
                    disk.path(),
                    disk.format(),
                    disk.type(),
                    disk.virtualSize(),
                    disk.fileSize(),
                    disk.blockSize(),
                    disk.logicalSectorSize(),
                    disk.identity(),
                    disk.virtualDiskId(),
                    disk.parentLink().orElse(null));
        }
    }

    private static ScanProblem problem(Path file, Throwable error) {
        ErrorReport report = ErrorReport.of(error);
        String kind = error instanceof GuardRefusal
                ? "in-use"
                : report.reason().equals("corrupt") || report.reason().equals("unsupported") ? report.reason() : "io";
        return new ScanProblem(file, kind, report.message());
    }

    /** Finds the parent among the scanned files, or on disk, by the paths the child records and its identity. */
    private static Link link(Header child, Map<Path, Header> scanned) {
        if (child.parentLink == null) {
            return new Link(LinkStatus.ROOT, null, null);
        }
        String mismatch = null;
        try {
            for (Path candidate : ParentPaths.candidates(child.path, child.parentLink)) {
                if (!Files.isRegularFile(candidate)) {
                    continue;
                }
                Path real = candidate.toRealPath();
                Header parent = scanned.get(real);
                if (parent == null) {
                    try {
                        parent = readHeader(real);
                    } catch (IOException e) {
                        mismatch = "the parent " + real + " cannot be read: " + e.getMessage();
                        continue;
                    }
                }
                if (parent.format != child.format) {
                    return new Link(
                            LinkStatus.INVALID_PARENT,
                            null,
                            "a " + child.format + " child cannot have the " + parent.format + " parent " + real);
                }
                if (child.parentLink.accepts(parent.identity)) {
                    if (parent.logicalSectorSize != child.logicalSectorSize) {
                        return new Link(
                                LinkStatus.INVALID_PARENT,
                                null,
                                "its parent " + real + " has " + parent.logicalSectorSize + "-byte sectors, it has "
                                        + child.logicalSectorSize);
                    }
                    return new Link(LinkStatus.LINKED, real, null);
                }
                if (mismatch == null) {
                    mismatch = "the parent " + real + " was modified after this disk was made (its identity is "
                            + parent.identity + ", the child recorded " + child.parentLink.acceptedIdentities() + ")";
                }
            }
        } catch (IOException e) {
            return new Link(LinkStatus.MISSING_PARENT, null, "looking for the parent failed: " + e.getMessage());
        }
        if (mismatch != null) {
            return new Link(LinkStatus.MODIFIED_PARENT, null, mismatch);
        }
        return new Link(
                LinkStatus.MISSING_PARENT,
                null,
                "no parent at "
                        + child.parentLink.paths().stream().map(p -> p.value()).toList());
    }

    private static List<VolumeSpace> volumes(List<Path> roots, Set<Path> files) throws IOException {
        Map<Path, VolumeSpace> volumes = new LinkedHashMap<>();
        Set<Path> places = new LinkedHashSet<>(roots);
        for (Path file : files) {
            places.add(file.getParent());
        }
        Volume.Table mounts = Volume.Table.read();
        for (Path place : places) {
            Volume volume = mounts.of(place);

            if (!volumes.containsKey(volume.mountPoint())) {
                volumes.put(
                        volume.mountPoint(),
                        new VolumeSpace(
                                volume.mountPoint(),
                                volume.type(),
                                Volume.totalBytes(place),
                                Volume.usableBytes(place)));
            }
        }
        return new ArrayList<>(volumes.values());
    }
}
