package io.chainmerge.disk.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The software nobody here wrote that checks the engine: qemu-img and qemu-io (Debian qemu-utils),
 * and libvhdi through {@code /usr/bin/python3} with pyvhdi. Without them a test is skipped with the
 * reason, except under CI (CI=true), where a missing oracle fails the build.
 */
public final class Oracles {
    public static final String PYTHON = "/usr/bin/python3";

    private Oracles() {}

    public static void requireQemu() {
        require(
                Files.isExecutable(Path.of("/usr/bin/qemu-img")) && Files.isExecutable(Path.of("/usr/bin/qemu-io")),
                "qemu-img and qemu-io (apt-get install qemu-utils)");
    }

    public static void requireLibvhdi() {
        boolean present =
                Files.isExecutable(Path.of(PYTHON)) && run(List.of(PYTHON, "-c", "import pyvhdi"), false).exitCode == 0;
        require(present, "pyvhdi for /usr/bin/python3 (apt-get install python3-libvhdi)");
    }

    private static void require(boolean present, String what) {
        if (!present) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError("CI must provide the oracle " + what);
            }
            Assumptions.abort("oracle missing: " + what);
        }
    }

    public record Result(int exitCode, String output) {}

    /** Runs a command, returns its exit code and combined output. */
    public static Result run(List<String> command, boolean mustSucceed) {
        try {
            Process process =
                    new ProcessBuilder(command).redirectErrorStream(true).start();
            String output;
            try (InputStream in = process.getInputStream()) {
                output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!process.waitFor(10, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError("timed out: " + command);
            }
            Result result = new Result(process.exitValue(), output);
            if (mustSucceed && result.exitCode != 0) {
                throw new AssertionError(command + " exited " + result.exitCode + ":\n" + output);
            }
            return result;
        } catch (IOException e) {
            throw new AssertionError("could not run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public static String qemuImg(String... args) {
        List<String> command = new ArrayList<>(List.of("qemu-img"));
        command.addAll(List.of(args));
        return run(command, true).output;
    }

    /** {@code qemu-img create -f vhdx}: a root disk made by qemu, {@code subformat} dynamic or fixed. */
    public static void qemuCreateVhdx(Path file, String subformat, String blockSize, long virtualSize) {
        qemuImg(
                "create",
                "-q",
                "-f",
                "vhdx",
                "-o",
                "subformat=" + subformat + ",block_size=" + blockSize,
                file.toString(),
                String.valueOf(virtualSize));
    }

    /** Runs qemu-io commands (e.g. {@code write -P 0x5a 0 64k}) against a root disk. */
    public static void qemuIo(Path file, String format, String... commands) {
        List<String> command = new ArrayList<>(List.of("qemu-io", "-f", format));
        for (String c : commands) {
            command.add("-c");
            command.add(c);
        }
        command.add(file.toString());
        String output = run(command, true).output;
        assertThat(output).doesNotContainIgnoringCase("error").doesNotContainIgnoringCase("failed");
    }

    /** {@code qemu-img convert -O raw}: the logical content of a root disk, as qemu reads it. */
    public static Path qemuToRaw(Path disk, String format, Path raw) {
        qemuImg("convert", "-f", format, "-O", "raw", disk.toString(), raw.toString());
        return raw;
    }

    /** {@code qemu-img check}: fails the test unless qemu finds the file clean. */
    public static void qemuCheckClean(Path disk, String format) {
        Result result = run(List.of("qemu-img", "check", "-f", format, disk.toString()), false);
        assertThat(result.exitCode)
                .as("qemu-img check of %s:\n%s", disk, result.output)
                .isZero();
    }

    /** The chain's logical content as libvhdi reads it (top first, then each ancestor). */
    public static Path vhdiToRaw(Path raw, Path... chainTopFirst) {
        run(vhdiRead(raw, chainTopFirst), true);
        return raw;
    }

    /** Whether libvhdi reads the chain (into {@code raw}); false when it refuses it. */
    public static boolean vhdiReads(Path raw, Path... chainTopFirst) {
        return run(vhdiRead(raw, chainTopFirst), false).exitCode == 0;
    }

    private static List<String> vhdiRead(Path raw, Path... chainTopFirst) {
        List<String> command =
                new ArrayList<>(List.of(PYTHON, script("vhdi_read.py").toString(), raw.toString()));
        for (Path p : chainTopFirst) {
            command.add(p.toString());
        }
        return command;
    }

    public static String vhdiInfo(Path disk) {
        return run(List.of("vhdiinfo", disk.toString()), true).output;
    }

    private static Path script(String name) {
        try {
            Path dir = Files.createTempDirectory("chainmerge-oracles");
            Path script = dir.resolve(name);
            try (InputStream in = Oracles.class.getResourceAsStream("/oracles/" + name)) {
                Files.copy(in, script);
            }
            script.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            return script;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
