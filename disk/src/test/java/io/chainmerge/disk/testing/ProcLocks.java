package io.chainmerge.disk.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The kernel's view of who holds which file locks ({@code /proc/locks}): what lock tests judge by, so
 * that they see what another process or qemu sees rather than what chainmerge believes it holds.
 */
public final class ProcLocks {
    private static final Path PROC_LOCKS = Path.of("/proc/locks");

    private ProcLocks() {}

    public static boolean available() {
        return Files.isReadable(PROC_LOCKS);
    }

    /** The inode of a file, as /proc/locks names it. */
    public static long inode(Path file) {
        try {
            return (Long) Files.getAttribute(file, "unix:ino");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The locks {@code pid} holds (not waits for), by inode: "READ" or "WRITE". */
    public static Map<Long, String> heldBy(long pid) {
        Map<Long, String> held = new HashMap<>();
        try {
            for (String line : Files.readAllLines(PROC_LOCKS, StandardCharsets.US_ASCII)) {
                String[] fields = line.trim().split("\\s+");
                if (fields.length < 8 || fields[1].equals("->") || !fields[4].equals(Long.toString(pid))) {
                    continue;
                }
                String id = fields[5];
                held.put(Long.parseLong(id.substring(id.lastIndexOf(':') + 1)), fields[3]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return held;
    }
}
