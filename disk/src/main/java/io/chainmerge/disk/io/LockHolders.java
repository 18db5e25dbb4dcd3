package io.chainmerge.disk.io;

import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who holds a lock on a file, as Linux lists the locks of every process in {@code /proc/locks}: so that
 * an {@code in-use} refusal names the merge, the VM or the qemu that has the file, not just "another
 * process".
 */
final class LockHolders {
    static final Path PROC_LOCKS = Path.of("/proc/locks");

    /** A process holding a lock: its pid (-1 where the kernel does not say) and its command line. */
    record Holder(long pid, String command) {
        String describe() {
            if (pid < 0) {
                return "a process that does not show its pid (an open file description lock, as qemu takes)";
            }
            return command.isEmpty() ? "pid " + pid : "pid " + pid + " (" + command + ")";
        }
    }

    private LockHolders() {}

    /** The {@code in-use} refusal for {@code file}, which another process has locked. */
    static GuardRefusal refusal(Path file) {
        List<Holder> holders = holdersOf(file);
        String by = holders.isEmpty()
                ? "another process (a running merge, or a VM)"
                : String.join(", ", holders.stream().map(Holder::describe).toList());
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("holder", by);
        if (!holders.isEmpty() && holders.get(0).pid() >= 0) {
            figures.put("holderPid", holders.get(0).pid());
        }
        return new GuardRefusal(Guard.IN_USE, file, "%s: in use: locked by %s".formatted(file, by), figures);
    }

    /** The processes holding a lock on {@code file} (not those waiting for one), in the kernel's order. */
    static List<Holder> holdersOf(Path file) {
        try {
            String id = KernelFileId.of(file).toString();
            List<Holder> holders = new ArrayList<>();
            for (String line : Files.readAllLines(PROC_LOCKS, StandardCharsets.US_ASCII)) {
                // "1: POSIX  ADVISORY  WRITE 2469 fe:00:2154498 0 EOF"; waiters have "->" after the number
                String[] fields = line.trim().split("\\s+");
                if (fields.length < 8 || fields[1].equals("->") || !fields[5].equals(id)) {
                    continue;
                }
                long pid = Long.parseLong(fields[4]);
                if (holders.stream().noneMatch(h -> h.pid() == pid)) {
                    holders.add(new Holder(pid, pid < 0 ? "" : Processes.commandLine(pid)));
                }
            }
            return holders;
        } catch (IOException | RuntimeException e) {
            return List.of(); // not Linux, or the file went away: the refusal says less, nothing else changes
        }
    }
}
