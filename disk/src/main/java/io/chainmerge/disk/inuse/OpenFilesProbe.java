package io.chainmerge.disk.inuse;

import io.chainmerge.disk.io.Processes;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Local processes that hold a file of the chain open, whether or not they lock it, found as {@code
 * fuser} finds them: the links in {@code /proc/PID/fd}. This process and the children it spawns are left
 * out (its own opens are its lock scope's business). A process whose descriptors it may not read (another user's, for a worker that
 * is neither root nor given CAP_SYS_PTRACE) is a blind spot: the probe then cannot look.
 */
public final class OpenFilesProbe implements InUseProbe {
    public static final String NAME = "open-files";

    private final Path proc;

    public OpenFilesProbe() {
        this(Path.of("/proc"));
    }

    OpenFilesProbe(Path proc) {
        this.proc = proc;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<InUseHolder> holders(List<Path> files) throws IOException {
        if (!Files.isDirectory(proc.resolve("self").resolve("fd"))) {
            throw new ProbeUnavailableException(NAME, proc + " lists no open files here (not Linux?)");
        }
        Set<Path> wanted = new HashSet<>(files);
        long self = ProcessHandle.current().pid();
        List<InUseHolder> holders = new ArrayList<>();
        int hidden = 0;
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(proc, "[0-9]*")) {
            for (Path process : processes) {
                long pid = Long.parseLong(process.getFileName().toString());
                if (pid != self && !spawnedBy(self, process) && !collect(process, pid, wanted, holders)) {
                    hidden++;
                }
            }
        }
        if (hidden > 0 && holders.isEmpty()) {
            throw new ProbeUnavailableException(
                    NAME,
                    "%d processes of other users hide their open files from this one (run it as root or with CAP_SYS_PTRACE)"
                            .formatted(hidden));
        }
        return holders;
    }

    /**
     * A child this process is starting (a probe's own command, say) holds every descriptor of its parent
     * until it execs the program it runs: in between it is the JVM itself or its spawn helper, and those
     * are this process's own opens, not another user of the chain. A child that runs its own program and
     * opened a file itself is counted like any process.
     */
    private boolean spawnedBy(long self, Path process) {
        boolean child = ProcessHandle.of(Long.parseLong(process.getFileName().toString()))
                .flatMap(ProcessHandle::parent)
                .map(parent -> parent.pid() == self)
                .orElse(false);
        if (!child) {
            return false;
        }
        try {
            Path program = Files.readSymbolicLink(process.resolve("exe"));
            return program.equals(Files.readSymbolicLink(proc.resolve("self").resolve("exe")))
                    || program.getFileName().toString().equals("jspawnhelper");
        } catch (IOException e) {
            return false;
        }
    }

    /** Adds what {@code process} holds of {@code wanted}; false when it may not look at its descriptors. */
    private static boolean collect(Path process, long pid, Set<Path> wanted, List<InUseHolder> holders) {
        Set<Path> seen = new HashSet<>();
        try (DirectoryStream<Path> descriptors = Files.newDirectoryStream(process.resolve("fd"))) {
            for (Path descriptor : descriptors) {
                Path target;
                try {
                    target = Files.readSymbolicLink(descriptor);
                } catch (IOException e) {
                    continue; // closed meanwhile
                }
                if (wanted.contains(target) && seen.add(target)) {
                    holders.add(new InUseHolder(NAME, target, "pid " + pid + " (" + Processes.commandLine(pid) + ")"));
                }
            }
        } catch (AccessDeniedException e) {
            return false;
        } catch (IOException e) {
            // gone meanwhile
        }
        return true;
    }
}
