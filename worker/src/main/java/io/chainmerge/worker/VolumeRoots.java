package io.chainmerge.worker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The one place a path from a job becomes a path on this host (invariant 4): it is resolved with
 * {@code ..} and every symbolic link followed, and refused unless what it names lies under one of the
 * volume roots, themselves resolved the same way. A path whose file does not exist yet (the new file
 * of a flatten) is resolved through its nearest existing folder.
 */
public final class VolumeRoots {
    private final List<Path> roots;

    public VolumeRoots(List<Path> configured) {
        List<Path> real = new ArrayList<>();
        for (Path root : configured) {
            try {
                real.add(root.toAbsolutePath().toRealPath());
            } catch (IOException e) {
                throw new UncheckedIOException("volume root " + root + " cannot be read", e);
            }
        }
        this.roots = List.copyOf(real);
    }

    public List<Path> roots() {
        return roots;
    }

    /** A path is outside every volume root. */
    public static final class OutsideVolumeRoots extends IllegalArgumentException {
        public OutsideVolumeRoots(String path, Path resolved, List<Path> roots) {
            super("%s is outside this worker's volume roots %s%s"
                    .formatted(
                            path,
                            roots,
                            resolved != null && !resolved.toString().equals(path)
                                    ? " (it resolves to " + resolved + ")"
                                    : ""));
        }
    }

    /** The real path {@code path} names, which must lie under a volume root. */
    public Path resolve(String path) throws IOException {
        Path real = realPath(Path.of(path));
        if (volumeOf(real).isEmpty()) {
            throw new OutsideVolumeRoots(path, real, roots);
        }
        return real;
    }

    /** Checks paths the engine found on its own (parents, children) the same way. */
    public void checkAll(Collection<Path> paths) throws IOException {
        for (Path path : paths) {
            if (path != null) {
                resolve(path.toString());
            }
        }
    }

    /** The volume root holding an already resolved path. */
    public Optional<Path> volumeOf(Path real) {
        return roots.stream().filter(real::startsWith).findFirst();
    }

    private static Path realPath(Path path) throws IOException {
        if (!path.isAbsolute()) {
            throw new IllegalArgumentException(path + " is not an absolute path");
        }
        // Walk the existing part one name at a time, so links and .. resolve as the kernel would
        // (a lexical normalize would take "link/.." back to the folder holding the link).
        Path current = path.getRoot();
        int names = path.getNameCount();
        int at = 0;
        while (at < names) {
            Path next = current.resolve(path.getName(at));
            if (!Files.exists(next)) {
                break;
            }
            current = next.toRealPath();
            at++;
        }
        for (int i = at; i < names; i++) {
            String name = path.getName(i).toString();
            if (name.equals("..") || name.equals(".")) {
                throw new IllegalArgumentException(path + ": '" + name + "' after a folder that does not exist");
            }
            current = current.resolve(name);
        }
        return current;
    }
}
