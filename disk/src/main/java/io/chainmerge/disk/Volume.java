package io.chainmerge.disk;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The file system a path lives on: its mount point, source, type, and its UUID when the system
 * publishes one (in {@code /dev/disk/by-uuid}).
 */
public record Volume(Path mountPoint, String source, String type, Optional<UUID> uuid) {

    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");
    private static final Path BY_UUID = Path.of("/dev/disk/by-uuid");

    /** The volume holding {@code path}. For many paths, read a {@link Table} once and ask it. */
    public static Volume of(Path path) throws IOException {
        return Table.read().of(path);
    }

    /** The mounts of this system, read once. */
    public static final class Table {
        private final List<Volume> mounts;

        private Table(List<Volume> mounts) {
            this.mounts = mounts;
        }

        public static Table read() throws IOException {
            Map<Path, UUID> uuids = devicesWithUuids();
            List<Volume> mounts = new ArrayList<>();
            if (Files.isReadable(MOUNTINFO)) {
                for (String line : Files.readAllLines(MOUNTINFO)) {
                    String[] fields = line.split(" ");
                    int dash = List.of(fields).indexOf("-");
                    if (fields.length < 5 || dash < 0 || dash + 2 >= fields.length) {
                        continue;
                    }
                    String source = unescape(fields[dash + 2]);
                    mounts.add(new Volume(
                            Path.of(unescape(fields[4])),
                            source,
                            fields[dash + 1],
                            Optional.ofNullable(uuidOf(source, uuids))));
                }
            }
            return new Table(mounts);
        }

        /** The mount with the longest mount point that holds {@code path} (the last one mounted wins a tie). */
        public Volume of(Path path) throws IOException {
            Path real = existingAncestor(path.toAbsolutePath().normalize()).toRealPath();
            Volume best = new Volume(Path.of("/"), "", "", Optional.empty());
            for (Volume mount : mounts) {
                if (real.startsWith(mount.mountPoint())
                        && mount.mountPoint().getNameCount()
                                >= best.mountPoint().getNameCount()) {
                    best = mount;
                }
            }
            return best;
        }

        /** The mount point of the file system with this UUID, if it is mounted. */
        public Optional<Path> mountPointOf(UUID volume) {
            return mounts.stream()
                    .filter(mount -> mount.uuid().equals(Optional.of(volume)))
                    .map(Volume::mountPoint)
                    .findFirst();
        }
    }

    private static Map<Path, UUID> devicesWithUuids() {
        Map<Path, UUID> devices = new HashMap<>();
        if (!Files.isDirectory(BY_UUID)) {
            return devices;
        }
        try (var links = Files.list(BY_UUID)) {
            for (Path link : (Iterable<Path>) links::iterator) {
                try {
                    devices.put(
                            link.toRealPath(),
                            UUID.fromString(link.getFileName().toString()));
                } catch (IllegalArgumentException | IOException e) {
                    // FAT and NTFS serials are not UUIDs; a dangling link names no device
                }
            }
        } catch (IOException e) {
            return devices;
        }
        return devices;
    }

    private static UUID uuidOf(String source, Map<Path, UUID> devices) {
        if (!source.startsWith("/dev/") || devices.isEmpty()) {
            return null;
        }
        try {
            return devices.get(Path.of(source).toRealPath());
        } catch (IOException e) {
            return null;
        }
    }

    private static Path existingAncestor(Path path) {
        Path at = path;
        while (at != null && !Files.exists(at)) {
            at = at.getParent();
        }
        return at == null ? Path.of("/") : at;
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
