package io.chainmerge.disk.pace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The block device a volume's file system lives on, and its kernel I/O counters ({@code
 * /sys/dev/block/MAJ:MIN/stat}, the per-device line of {@code /proc/diskstats}). A partition, a
 * device-mapper target (LVM, dm-crypt, dm-delay) and a loop device each keep their own counters, as
 * seen by the file system on them: those are the latency the volume's users meet, so they are read
 * as they are; what lies beneath is named in {@link #description()} only. A file system without a
 * device (tmpfs, overlay, a network mount) has none: see {@link Mount#device(Path)}.
 */
public final class BlockDevice {
    private final String name;
    private final Path stat;
    private final String description;

    private BlockDevice(String name, Path stat, String description) {
        this.name = name;
        this.stat = stat;
        this.description = description;
    }

    /** Completed reads and writes, and the milliseconds they spent (queued and served), since boot. */
    public record Counters(long ios, long millis) {}

    /** The kernel's name of the device, e.g. {@code sda1}, {@code dm-0}, {@code loop3}. */
    public String name() {
        return name;
    }

    /** The device and what it stands on, for logs and reports: "dm-0 (device-mapper slow, over loop0)". */
    public String description() {
        return description;
    }

    /** Reads the counters now (Documentation/block/stat.rst: fields 1, 4, 5 and 8). */
    public Counters read() throws IOException {
        String[] fields = Files.readString(stat).trim().split("\\s+");
        if (fields.length < 8) {
            throw new IOException(stat + ": expected at least 8 counters, found " + fields.length);
        }
        try {
            long ios = Long.parseLong(fields[0]) + Long.parseLong(fields[4]);
            long millis = Long.parseLong(fields[3]) + Long.parseLong(fields[7]);
            return new Counters(ios, millis);
        } catch (NumberFormatException e) {
            throw new IOException(stat + ": not a device's counters: " + e.getMessage(), e);
        }
    }

    /**
     * The mean service latency of the I/Os completed between two readings (what {@code iostat} calls
     * await), in nanoseconds: 0 for a device that did nothing, which is an idle device, not a missing
     * sample. Empty when the counters went back (the device was replaced).
     */
    public static OptionalLong latencyNanos(Counters before, Counters after) {
        long ios = after.ios() - before.ios();
        long millis = after.millis() - before.millis();
        if (ios < 0 || millis < 0) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(ios == 0 ? 0 : millis * 1_000_000 / ios);
    }

    /** The mount a path lies on, as {@code /proc/self/mountinfo} lists it. */
    public record Mount(Path mountPoint, String fsType, String source, int major, int minor) {

        /** The mount under {@code path} (resolved through its links), from the system's mount table. */
        public static Mount of(Path path) throws IOException {
            return of(path, Path.of("/proc/self/mountinfo"));
        }

        /** The innermost mount holding {@code path}, from the mount table {@code mountinfo}. */
        public static Mount of(Path path, Path mountinfo) throws IOException {
            Path real = path.toRealPath();
            Mount best = null;
            for (String line : Files.readAllLines(mountinfo)) {
                Mount mount = parse(line);
                if (mount != null
                        && real.startsWith(mount.mountPoint)
                        && (best == null || mount.mountPoint.getNameCount() >= best.mountPoint.getNameCount())) {
                    best = mount; // the later of two mounts on one point is the one on top
                }
            }
            if (best == null) {
                throw new IOException("no mount in " + mountinfo + " holds " + real);
            }
            return best;
        }

        /** proc(5): id parent major:minor root mount-point options [optional...] - type source super-options. */
        static Mount parse(String line) {
            String[] fields = line.split(" ");
            int dash = List.of(fields).indexOf("-");
            if (fields.length < 5 || dash < 6 || dash + 2 >= fields.length) {
                return null;
            }
            String[] device = fields[2].split(":");
            if (device.length != 2) {
                return null;
            }
            try {
                return new Mount(
                        Path.of(unescape(fields[4])),
                        fields[dash + 1],
                        unescape(fields[dash + 2]),
                        Integer.parseInt(device[0]),
                        Integer.parseInt(device[1]));
            } catch (NumberFormatException e) {
                return null;
            }
        }

        /** The kernel writes space, tab, newline and backslash in paths as octal escapes. */
        private static String unescape(String text) {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '\\'
                        && i + 3 < text.length()
                        && text.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                    out.append((char) Integer.parseInt(text.substring(i + 1, i + 4), 8));
                    i += 3;
                } else {
                    out.append(c);
                }
            }
            return out.toString();
        }

        /**
         * The block device under this mount, found in {@code sys} (the sysfs root): by the mount's
         * device number, or for a file system that reports an anonymous one (btrfs) by its source
         * device node. Empty when there is none (tmpfs, overlay, NFS, SMB).
         */
        public Optional<BlockDevice> device(Path sys) throws IOException {
            Path dir = null;
            if (major != 0) {
                Path byNumber = sys.resolve("dev/block/" + major + ":" + minor);
                if (Files.isRegularFile(byNumber.resolve("stat"))) {
                    dir = byNumber;
                }
            }
            if (dir == null && source.startsWith("/dev/") && Files.exists(Path.of(source))) {
                Path node = Path.of(source).toRealPath();
                Path byName = sys.resolve("class/block/" + node.getFileName());
                if (Files.isRegularFile(byName.resolve("stat"))) {
                    dir = byName;
                }
            }
            if (dir == null) {
                return Optional.empty();
            }
            Path real = dir.toRealPath();
            String name = real.getFileName().toString();
            return Optional.of(new BlockDevice(name, real.resolve("stat"), describe(name, real)));
        }

        /** This mount, for reports: "tmpfs at /dev/shm". */
        @Override
        public String toString() {
            return fsType + " at " + mountPoint;
        }
    }

    private static String describe(String name, Path dir) throws IOException {
        List<String> notes = new ArrayList<>();
        if (Files.exists(dir.resolve("partition"))) {
            notes.add("partition of " + dir.getParent().getFileName());
        }
        if (Files.isRegularFile(dir.resolve("dm/name"))) {
            notes.add(
                    "device-mapper " + Files.readString(dir.resolve("dm/name")).trim());
        }
        if (Files.isRegularFile(dir.resolve("loop/backing_file"))) {
            notes.add("loop over "
                    + Files.readString(dir.resolve("loop/backing_file")).trim());
        }
        Path slaves = dir.resolve("slaves");
        if (Files.isDirectory(slaves)) {
            try (var under = Files.list(slaves)) {
                List<String> names =
                        under.map(p -> p.getFileName().toString()).sorted().toList();
                if (!names.isEmpty()) {
                    notes.add("over " + String.join(", ", names));
                }
            }
        }
        return notes.isEmpty() ? name : name + " (" + String.join(", ", notes) + ")";
    }
}
