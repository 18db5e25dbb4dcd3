package io.chainmerge.disk.testing;

import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.merge.Merge;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@link EngineMain}, or another test main, in a separate JVM with this test's class path. */
public final class ChildJvm {
    private ChildJvm() {}

    /** A finished child: its exit status and what it printed. */
    public record Outcome(int exitStatus, String output) {
        public boolean crashedAtPoint() {
            return exitStatus == CrashPoints.EXIT_STATUS;
        }
    }

    /** Runs an operation to its end, or to the crash point {@code crashAt} (null for none). */
    public static Outcome run(String crashAt, String... args) throws IOException, InterruptedException {
        return finish(start(crashAt, args), Duration.ofMinutes(5));
    }

    /** Waits for a started child to end ({@code limit} at most), with all it printed. */
    public static Outcome finish(Process process, Duration limit) throws IOException, InterruptedException {
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the child JVM did not finish: "
                    + process.info().commandLine().orElse("?"));
        }
        return new Outcome(process.exitValue(), output);
    }

    /** Starts an operation and returns the running process (stdout and stderr merged). */
    public static Process start(String crashAt, String... args) throws IOException {
        return startMain(EngineMain.class, crashAt, args);
    }

    /** Starts {@code main} (a class on this test's class path) in its own JVM, stdout and stderr merged. */
    public static Process startMain(Class<?> main, String crashAt, String... args) throws IOException {
        return startMain(main, crashAt, List.of(), args);
    }

    /** As {@link #startMain(Class, String, String...)}, with system properties ({@code -Dname=value}) of its own. */
    public static Process startMain(Class<?> main, String crashAt, List<String> properties, String... args)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx256m");
        command.addAll(properties);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        if (crashAt != null) {
            command.add("-D" + CrashPoints.PROPERTY + "=" + crashAt);
        }
        // The crash tests' disks are a few windows of 64 MiB: their crash points count window commits.
        command.add("-D" + Merge.WINDOW_PROPERTY + "=" + (64 << 20));

        command.add(main.getName());
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    /** Starts {@code hold FILE} and returns once the child holds the file's lock. */
    public static Process holdOpen(Path file) throws IOException {
        Process process = start(null, "hold", file.toString());
        BufferedReader out =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (line == null || !line.startsWith("holding")) {
            process.destroyForcibly();
            throw new AssertionError("the child JVM did not take the lock: " + line);
        }
        return process;
    }
}
