package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Debian package {@code mvn package} leaves in cli/target, read with dpkg's own tools and extracted
 * into a fresh folder (not installed: that would change the machine the build runs on). Needs dpkg-deb,
 * which every Debian and Ubuntu has; skipped elsewhere, required under CI=true.
 */
class DebianPackageIT {
    @TempDir
    static Path dir;

    static Path deb;
    static Path root;

    @BeforeAll
    static void extract() throws Exception {
        boolean dpkg = run(List.of("dpkg-deb", "--version")).exit() == 0;
        if (!dpkg) {
            assertThat(System.getenv("CI")).as("dpkg-deb (Debian's dpkg)").isNotEqualTo("true");
        }
        assumeTrue(dpkg, "dpkg-deb is not installed: the .deb is not checked here");
        deb = Path.of("target", "chainmerge-" + DeploymentChecks.projectVersion() + ".deb")
                .toAbsolutePath();
        assertThat(deb).as("the package mvn package makes").isRegularFile();
        root = dir.resolve("root");
        Run extract = run(List.of("dpkg-deb", "-x", deb.toString(), root.toString()));
        assertThat(extract.exit()).as(extract.output()).isZero();
    }

    @Test
    void theControlFieldsNameThePackageItsJavaAndItsConffiles() throws Exception {
        assertThat(run(List.of("dpkg-deb", "--field", deb.toString(), "Package"))
                        .output()
                        .strip())
                .isEqualTo("chainmerge");
        assertThat(run(List.of("dpkg-deb", "--field", deb.toString(), "Version"))
                        .output()
                        .strip())
                .isEqualTo(DeploymentChecks.projectVersion().replace("-", "~"));
        assertThat(run(List.of("dpkg-deb", "--field", deb.toString(), "Depends"))
                        .output())
                .contains("java17-runtime-headless");
        assertThat(run(List.of("dpkg-deb", "--info", deb.toString(), "conffiles"))
                        .output()
                        .lines())
                .containsExactlyInAnyOrder(
                        "/etc/chainmerge/worker.yaml",
                        "/etc/chainmerge/worker.env",
                        "/etc/chainmerge/coordinator.yaml",
                        "/etc/chainmerge/coordinator.env");
        for (String script : List.of("postinst", "prerm", "postrm")) {
            Path file = DeploymentChecks.ROOT.resolve("cli/src/deb/control/" + script);
            Run syntax = run(List.of("sh", "-n", file.toString()));
            assertThat(syntax.exit()).as(script + ": " + syntax.output()).isZero();
        }
    }

    @Test
    void usrBinChainmergeRunsTheReleaseInOptThroughItsRelativeLink() throws Exception {
        Path command = root.resolve("usr/bin/chainmerge");
        assertThat(Files.isSymbolicLink(command)).isTrue();
        assertThat(Files.readSymbolicLink(command).isAbsolute())
                .as("relative, so it resolves under any root")
                .isFalse();
        Run version = run(List.of(command.toString(), "--version"));
        assertThat(version.exit()).as(version.output()).isZero();
        assertThat(version.output()).contains("chainmerge " + DeploymentChecks.projectVersion());
        assertThat(root.resolve("opt/chainmerge/broker")).isDirectory();
        assertThat(root.resolve("usr/share/bash-completion/completions/chainmerge"))
                .content()
                .contains("_complete_chainmerge");
        assertThat(root.resolve("usr/share/man/man1/chainmerge-merge.1"))
                .content()
                .contains(".SH EXIT STATUS");
    }

    @Test
    void theUnitsAndSettingsLandWhereTheUnitsLookAndSecretsAreRootsAlone() throws IOException {
        for (String role : SystemdUnitsTest.ROLES) {
            Path unit = root.resolve("lib/systemd/system/chainmerge-" + role + ".service");
            assertThat(Files.readString(unit)).isEqualTo(DeploymentChecks.read(SystemdUnitsTest.unitFile(role)));
            String exec = SystemdUnitsTest.section(Files.readString(unit), "Service")
                    .get("ExecStart")
                    .split("\\s+")[0];
            assertThat(root.resolve(exec.substring(1))).as(exec).isExecutable();
            assertThat(root.resolve("etc/chainmerge/" + role + ".yaml")).isRegularFile();
            assertThat(PosixFilePermissions.toString(
                            Files.getPosixFilePermissions(root.resolve("etc/chainmerge/" + role + ".env"))))
                    .isEqualTo("rw-------");
        }
    }

    record Run(int exit, String output) {}

    private static Run run(List<String> command) throws Exception {
        Path log = Files.createTempFile(dir, "run", ".log");
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            return new Run(127, e.getMessage());
        }
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not end in 2 minutes");
        }
        return new Run(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
