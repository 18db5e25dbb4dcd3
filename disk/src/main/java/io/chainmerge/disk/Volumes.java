package io.chainmerge.disk;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The file system a path lives on: its mount point, its UUID when the system publishes one, and its
 * space. Read from {@code /proc/self/mountinfo} and {@code /dev/disk/by-uuid}.
 */
public record Volumes(Path mountPoint, String source, String type, Optional<UUID> uuid) {

    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");
    private static final Path BY_UUID = Path.of("/dev/disk/by-uuid");

    /** The volume holding {@code path} (the mount with the longest matching mount point). */
    public static Volumes of(Path path) throws IOException {
        Path real = existingAncestor(path.toAbsolutePath().normalize()).toRealPath();
        Path bestMount = Path.of("/");
        String bestSource = "";
        String bestType = "";
        if (Files.isReadable(MOUNTINFO)) {
            for (String line : Files.readAllLines(MOUNTINFO)) {
                String[] fields = line.split(" ");
                int dash = List.of(fields).indexOf("-");
                if (fields.length < 5 || dash < 0 || dash + 2 >= fields.length) {
                    continue;
                }
                Path mount = Path.of(unescape(fields[4]));
                if (real.startsWith(mount) && mount.getNameCount() >= bestMount.getNameCount()) {
                    bestMount = mount;
                    bestType = fields[dash + 1];
                    bestSource = unescape(fields[dash + 2]);
                }
            }
        }
        return new Volumes(bestMount, bestSource, bestType, uuidOf(bestSource));
    }

    private static Path existingAncestor(Path path) {
        Path at = path;
        while (at != null && !Files.exists(at)) {
            at = at.getParent();
        }
        return at == null ? Path.of("/") : at;
    }

    private static Optional<UUID> uuidOf(String source) {
        if (!source.startsWith("/dev/") || !Files.isDirectory(BY_UUID)) {
            return Optional.empty();
        }
        try (var links = Files.list(BY_UUID)) {
            Path device = Path.of(source).toRealPath();
            for (Path link : (Iterable<Path>) links::iterator) {
                if (link.toRealPath().equals(device)) {
                    return parseUuid(link.getFileName().toString());
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static Optional<UUID> parseUuid(String text) {
        try {
            return Optional.of(UUID.fromString(text));
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // FAT and NTFS serials are not UUIDs
        }
    }

    /** The mount point with the volume UUID stood for, when there is one: {@code /srv/a} for {@code {uuid}}. */
    public static Optional<Path> mountPointOf(UUID volume) throws IOException {
        if (!Files.isReadable(MOUNTINFO)) {
            return Optional.empty();
        }
        for (String line : Files.readAllLines(MOUNTINFO)) {
            String[] fields = line.split(" ");
            int dash = List.of(fields).indexOf("-");
            if (fields.length < 5 || dash < 0 || dash + 2 >= fields.length) {
                continue;
            }
            if (uuidOf(unescape(fields[dash + 2])).equals(Optional.of(volume))) {
                return Optional.of(Path.of(unescape(fields[4])));
            }
        }
        return Optional.empty();
    }

    private static String unescape(String field) {
        return field.replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\");
    }

    /** Bytes a new file on this path's volume can take, as the file system reports them to this user. */
    public static long usableBytes(Path path) throws IOException {
        return store(path).getUsableSpace();
    }

    public static long totalBytes(Path path) throws IOException {
        return store(path).getTotalSpace();
    }

    private static FileStore store(Path path) throws IOException {
        return Files.getFileStore(existingAncestor(path.toAbsolutePath().normalize()));
    }
}
