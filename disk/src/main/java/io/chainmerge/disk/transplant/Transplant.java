package io.chainmerge.disk.transplant;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import io.chainmerge.disk.Volume;
import io.chainmerge.disk.chain.Repoint;
import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.io.Directories;
import io.chainmerge.disk.io.LockScope;
import io.chainmerge.disk.io.LockedFile;
import io.chainmerge.disk.merge.Throttle;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Moves or copies disks of a chain to another folder (Move-VHD, then Set-VHD -ParentPath on the
 * children), in journaled steps so that a crash at any instant leaves either the old layout or the new
 * one, and running it again finishes it:
 *
 * <ol>
 *   <li>the source's guards (in use, children a move across hosts would strand) and the target's (room
 *       for the copies, the merge that follows and the reserve; no file in the way): {@code PLANNED};
 *   <li>each file copied to {@code NAME.partial}, flushed, read back and checked against the source's
 *       SHA-256, renamed to its name, the folder flushed: {@code COPIED}. Until here the sources are the
 *       chain and nothing links to a copy;
 *   <li>each copy linked to the copy of its parent (the oldest to its parent that stays), each child left
 *       behind re-pointed at its parent's copy, with the {@code set-parent} guard: {@code LINKED}. A crash
 *       in between leaves children linked to a source or to its copy, both present and the same disk;
 *   <li>for a move, the sources removed newest first, each folder flushed: {@code DONE}.
 * </ol>
 */
public final class Transplant {

    private Transplant() {}

    /** Opens the source side: its guards run here and its files stay locked until it is closed. */
    public interface Opener {
        TransplantSource open() throws IOException;
    }

    /** Removes a source file once its copy is linked; called after the source side is closed. */
    public interface Remover {
        void remove(TransplantFile file) throws IOException;
    }

    /**
     * Runs the transplant. Every local file it touches (the sources and the children left behind, when
     * the source is on this host; the copies; the parent the oldest copy links to) stays locked from the
     * source's guards to the last source removed.
     */
    public static TransplantReport run(
            TransplantRequest request,
            Opener opener,
            Remover remover,
            TransplantJournal journal,
            TransplantSource.CopyProgress progress)
            throws IOException {
        try (LockScope scope = LockScope.begin("transplant into " + request.targetFolder())) {
            return runHeld(request, opener, remover, journal, progress, scope);
        }
    }

    private static TransplantReport runHeld(
            TransplantRequest request,
            Opener opener,
            Remover remover,
            TransplantJournal journal,
            TransplantSource.CopyProgress progress,
            LockScope scope)
            throws IOException {
        TransplantStep step = journal.step();
        boolean resumed = step != null;
        List<TransplantFile> files;
        List<Path> repointed;
        long copied = 0;
        if (step == null || step.compareTo(TransplantStep.LINKED) < 0) {
            Map<Path, Path> childrenLeftBehind;
            Path parentOfOldest;
            try (TransplantSource source = opener.open()) {
                files = withRecordedDigests(source.files(), journal.files());
                if (step == null) {
                    refuseFilesInTheWay(files);
                }
                preflight(request, files);
                journal.record(TransplantStep.PLANNED, files, List.of());
                CrashPoints.reach("transplant.planned");
                Throttle throttle = new Throttle(request.rateBytesPerSecond());
                List<TransplantFile> done = new ArrayList<>(files);
                for (int i = 0; i < files.size(); i++) {
                    TransplantFile file = files.get(i);
                    if (file.sha256() != null && Files.exists(file.target())) {
                        continue; // copied, checked and renamed by an earlier run
                    }
                    CopyResult result = copyChecked(request, source, file, throttle, progress);
                    copied += result.bytes();
                    done.set(i, file.withSha256(result.sha256()));
                    journal.record(TransplantStep.PLANNED, done, List.of());
                    CrashPoints.reach("transplant.copied");
                }
                files = List.copyOf(done);
                for (TransplantFile file : files) {
                    // Copies an earlier run made are linked (written) next: locked before the first is.
                    scope.hold(file.target(), Access.WRITE);
                }
                journal.record(TransplantStep.COPIED, files, List.of());
                childrenLeftBehind = request.move() ? source.childrenLeftBehind() : Map.of();
                parentOfOldest = source.parentOfOldest();
            }
            repointed = link(files, parentOfOldest, childrenLeftBehind);
            journal.record(TransplantStep.LINKED, files, repointed);
            CrashPoints.reach("transplant.linked");
        } else {
            files = journal.files();
            repointed = journal.repointed();
            for (TransplantFile file : files) {
                if (Files.exists(file.target())) {
                    // Held as the first run held them until its end (taking over the claims it left).
                    scope.hold(file.target(), Access.WRITE);
                }
            }
        }
        List<Path> removed = new ArrayList<>();
        if (request.move()) {
            for (TransplantFile file : files) {
                remover.remove(file);
                removed.add(file.source());
                CrashPoints.reach("transplant.source-removed");
            }
        }
        journal.record(TransplantStep.DONE, files, repointed);
        return new TransplantReport(files, copied, repointed, removed, resumed);
    }

    /** The source's view of the files, with the digests an earlier run recorded for copies it finished. */
    private static List<TransplantFile> withRecordedDigests(List<TransplantFile> files, List<TransplantFile> recorded) {
        Map<Path, String> digests = new LinkedHashMap<>();
        for (TransplantFile file : recorded) {
            if (file.sha256() != null) {
                digests.put(file.target(), file.sha256());
            }
        }
        List<TransplantFile> merged = new ArrayList<>();
        for (TransplantFile file : files) {
            String digest = digests.get(file.target());
            merged.add(digest == null ? file.withSha256(null) : file.withSha256(digest));
        }
        return merged;
    }

    private static void refuseFilesInTheWay(List<TransplantFile> files) throws IOException {
        for (TransplantFile file : files) {
            if (Files.exists(file.target())) {
                throw new FileAlreadyExistsException(file.target().toString());
            }
            if (file.target().equals(file.source())) {
                throw new IllegalArgumentException(file.source() + " is already in the target folder");
            }
            // Nothing was journaled, so no run of this job wrote it: a leftover, never linked to.
            Files.deleteIfExists(file.partial());
        }
    }

    /**
     * Room on the target's volume for what is still to copy, plus the merge that follows, plus the
     * reserve; refused with the {@code insufficient-space} guard and its figures otherwise.
     */
    static void preflight(TransplantRequest request, List<TransplantFile> files) throws IOException {
        long incoming = 0;
        for (TransplantFile file : files) {
            if (file.sha256() != null && Files.exists(file.target())) {
                continue;
            }
            long partial = Files.exists(file.partial()) ? Files.size(file.partial()) : 0;
            incoming += Math.max(0, file.bytes() - partial);
        }
        Path folder = request.targetFolder();
        long usable = Volume.usableBytes(folder);
        long reserve = request.reserve().bytesOn(Volume.totalBytes(folder));
        long required = incoming + request.roomForMergeBytes();
        long available = Math.max(0, usable - reserve);
        if (required > available) {
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("requiredBytes", required);
            figures.put("availableBytes", available);
            figures.put("reserveBytes", reserve);
            figures.put("filesBytes", incoming);
            figures.put("roomForMergeBytes", request.roomForMergeBytes());
            throw new GuardRefusal(
                    Guard.SPACE,
                    folder,
                    "%s: the transplant needs %d bytes there (%d for the files, %d for the merge that follows) but %d are available beyond the reserve of %d"
                            .formatted(folder, required, incoming, request.roomForMergeBytes(), available, reserve),
                    figures);
        }
    }

    private record CopyResult(long bytes, String sha256) {}

    /**
     * Copies one file and checks it: a copy whose SHA-256 differs from the source's is discarded and
     * fetched again from scratch, at most {@code attempts} times; only a checked copy gets its name.
     */
    private static CopyResult copyChecked(
            TransplantRequest request,
            TransplantSource source,
            TransplantFile file,
            Throttle throttle,
            TransplantSource.CopyProgress progress)
            throws IOException {
        Files.createDirectories(file.target().getParent());
        Files.deleteIfExists(file.target()); // a copy renamed just before a crash, never recorded: unchecked
        long copied = 0;
        String lastMismatch = null;
        for (int attempt = 1; attempt <= request.attempts(); attempt++) {
            long before = Files.exists(file.partial()) ? Files.size(file.partial()) : 0;
            String expected = source.copy(file, file.partial(), throttle, progress);
            copied += Math.max(0, Files.size(file.partial()) - before);
            String actual = sha256(file.partial(), true);
            if (actual.equals(expected)) {
                CrashPoints.reach("transplant.checked");
                LockScope.rename(file.partial(), file.target());
                Directories.force(file.target().getParent());
                return new CopyResult(copied, actual);
            }
            lastMismatch = "the copy's SHA-256 is %s, the source's %s".formatted(actual, expected);
            Files.delete(file.partial());
        }
        throw new TransferException(
                file.source(),
                "%s: no intact copy arrived in %d attempts (%s); nothing was linked to it and the source is unchanged"
                        .formatted(file.source(), request.attempts(), lastMismatch));
    }

    /** Links each copy to its parent's copy (the oldest to the parent that stays), then the children left behind. */
    private static List<Path> link(List<TransplantFile> files, Path parentOfOldest, Map<Path, Path> childrenLeftBehind)
            throws IOException {
        Map<Path, Path> copyOf = new LinkedHashMap<>();
        for (TransplantFile file : files) {
            copyOf.put(file.source(), file.target());
        }
        for (int i = 0; i < files.size(); i++) {
            Path parent = i + 1 < files.size() ? files.get(i + 1).target() : parentOfOldest;
            if (parent != null) {
                Repoint.setParent(files.get(i).target(), parent);
                CrashPoints.reach("transplant.copy-linked");
            }
        }
        List<Path> repointed = new ArrayList<>();
        for (Map.Entry<Path, Path> child : childrenLeftBehind.entrySet()) {
            Repoint.setParent(child.getKey(), copyOf.get(child.getValue()));
            repointed.add(child.getKey());
            CrashPoints.reach("transplant.repointed");
        }
        return repointed;
    }

    /** The SHA-256 of a file's bytes, lower-case hex; {@code flushFirst} makes the bytes durable before they are read back. */
    public static String sha256(Path file, boolean flushFirst) throws IOException {
        try (LockedFile locked = LockedFile.open(file, flushFirst ? Access.WRITE : Access.READ)) {
            if (flushFirst) {
                locked.force();
            }
            return locked.sha256();
        }
    }
}
