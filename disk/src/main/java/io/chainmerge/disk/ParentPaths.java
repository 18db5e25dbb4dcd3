package io.chainmerge.disk;

import io.chainmerge.disk.io.HostIdentity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Turns a parent's location into the Windows path forms disk files record, and back. On a Linux host
 * chainmerge writes:
 *
 * <ul>
 *   <li>a relative path with {@code \} separators ({@code .\base.vhdx}, {@code ..\vm\base.vhdx}), which
 *       Hyper-V tries first and which survives moving the folder as a whole;
 *   <li>a volume path {@code \\?\Volume{uuid}\dir\base.vhdx} when the file system has a UUID;
 *   <li>an absolute path {@code \\?\UNC\host\srv\vm\base.vhdx}: this host, the absolute path on it.
 * </ul>
 *
 * Resolution goes the other way, in the order the formats give, and last tries the recorded file name
 * beside the child: Windows-made absolute paths ({@code C:\...}) mean nothing here, and the parent's
 * identity is checked by the caller in every case.
 */
public final class ParentPaths {
    private static final String EXTENDED_PREFIX = "\\\\?\\";
    private static final String UNC_PREFIX = EXTENDED_PREFIX + "UNC\\";
    private static final String VOLUME_PREFIX = EXTENDED_PREFIX + "Volume{";

    private ParentPaths() {}

    /** The path forms a child at {@code child} records for a parent at {@code parent}. */
    public static List<ParentPath> forParent(Path child, Path parent) throws IOException {
        Path childDir = child.toAbsolutePath().normalize().getParent();
        Path target = parent.toAbsolutePath().normalize();
        List<ParentPath> paths = new ArrayList<>();
        String relative = childDir.relativize(target).toString().replace('/', '\\');
        paths.add(new ParentPath(ParentPath.Kind.RELATIVE, relative.startsWith("..") ? relative : ".\\" + relative));
        Volume volume = Volume.of(target);
        if (volume.uuid().isPresent()) {
            String inVolume = volume.mountPoint().relativize(target).toString().replace('/', '\\');
            paths.add(new ParentPath(
                    ParentPath.Kind.VOLUME, VOLUME_PREFIX + volume.uuid().get() + "}\\" + inVolume));
        }
        paths.add(new ParentPath(
                ParentPath.Kind.ABSOLUTE,
                UNC_PREFIX + hostName() + target.toString().replace('/', '\\')));
        return paths;
    }

    /**
     * The absolute path of {@code parent} as a rooted Windows path, with {@code \} separators and no
     * drive or host ({@code \srv\vm\base.vhd}): the form blktap writes in a VHD's W2ku locator and reads
     * back as the POSIX path.
     */
    public static String rooted(Path parent) {
        return parent.toAbsolutePath().normalize().toString().replace('/', '\\');
    }

    /**
     * Where to look for a parent, best first and without duplicates: every recorded path that means
     * something on this host, then each recorded file name in the child's folder.
     */
    public static List<Path> candidates(Path child, ParentLink link) throws IOException {
        Path childDir = child.toAbsolutePath().normalize().getParent();
        Set<Path> found = new LinkedHashSet<>();
        for (ParentPath path : link.paths()) {
            try {
                resolve(childDir, path).ifPresent(p -> found.add(p.normalize()));
            } catch (InvalidPathException e) {
                // A recorded path this host cannot even spell (a NUL in it) names no parent here.
            }
        }
        for (ParentPath path : link.paths()) {
            String name = fileName(path.value());
            if (!name.isEmpty()) {
                try {
                    found.add(childDir.resolve(name).normalize());
                } catch (InvalidPathException e) {
                    // as above
                }
            }
        }
        return new ArrayList<>(found);
    }

    /** The first candidate that exists, if any. */
    public static Optional<Path> firstExisting(Path child, ParentLink link) throws IOException {
        for (Path candidate : candidates(child, link)) {
            if (Files.isRegularFile(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    static Optional<Path> resolve(Path childDir, ParentPath path) throws IOException {
        String value = path.value();
        switch (path.kind()) {
            case RELATIVE -> {
                if (value.startsWith(EXTENDED_PREFIX) || value.matches("^[A-Za-z]:.*")) {
                    return Optional.empty();
                }
                return Optional.of(childDir.resolve(value.replace('\\', '/')));
            }
            case VOLUME -> {
                if (!value.startsWith(VOLUME_PREFIX) || value.indexOf('}') < 0) {
                    return Optional.empty();
                }
                int close = value.indexOf('}');
                UUID volume;
                try {
                    volume = UUID.fromString(value.substring(VOLUME_PREFIX.length(), close));
                } catch (IllegalArgumentException e) {
                    return Optional.empty();
                }
                String rest = value.substring(close + 1).replace('\\', '/');
                return Volume.Table.read()
                        .mountPointOf(volume)
                        .map(mount -> mount.resolve(rest.startsWith("/") ? rest.substring(1) : rest));
            }
            case ABSOLUTE -> {
                if (isRootedPath(value)) {
                    // A rooted path ("\srv\vm\base.vhd", or "/srv/vm/base.vhd" from a file URL) names a
                    // path on this host, as blktap writes and reads it.
                    return Optional.of(Path.of(value.replace('\\', '/')));
                }
                String ours = UNC_PREFIX + hostName() + "\\";
                if (value.regionMatches(true, 0, ours, 0, ours.length())) {
                    return Optional.of(
                            Path.of("/" + value.substring(ours.length()).replace('\\', '/')));
                }
                return Optional.empty();
            }
            default -> {
                return Optional.empty();
            }
        }
    }

    private static boolean isRootedPath(String value) {
        return (value.startsWith("\\") && !value.startsWith("\\\\"))
                || (value.startsWith("/") && !value.startsWith("//"));
    }

    /** The last component of a Windows or POSIX path. */
    static String fileName(String path) {
        int cut = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
        return path.substring(cut + 1);
    }

    private static String hostName() {
        return HostIdentity.name();
    }
}
