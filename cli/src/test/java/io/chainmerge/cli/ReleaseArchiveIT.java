package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.common.json.JsonCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The release archive {@code mvn package} leaves in cli/target, as a user meets it: unpacked into a fresh
 * folder, far from the build, and run through its own {@code bin/chainmerge} with nothing but a Java
 * runtime. Its systemd units pass {@code systemd-analyze verify} where systemd is installed.
 */
class ReleaseArchiveIT {
    @TempDir
    static Path dir;

    static Path home;

    @BeforeAll
    static void unpack() throws Exception {
        String version = DeploymentChecks.projectVersion();
        Path archive = Path.of("target", "chainmerge-" + version + ".tar.gz").toAbsolutePath();
        assertThat(archive).as("the release archive mvn package makes").isRegularFile();
        Run tar = run(dir, List.of("tar", "xzf", archive.toString(), "-C", dir.toString()));
        assertThat(tar.exit()).as(tar.output()).isZero();
        home = dir.resolve("chainmerge-" + version);
    }

    @Test
    void theArchiveHoldsTheLauncherItsClassPathTheBrokerExamplesAndUnits() throws IOException {
        assertThat(home.resolve("bin/chainmerge")).isExecutable();
        assertThat(home.resolve("chainmerge.jar")).isRegularFile();
        assertThat(jars(home.resolve("lib"))).anyMatch(j -> j.startsWith("chainmerge-worker-"));
        assertThat(jars(home.resolve("broker"))).anyMatch(j -> j.startsWith("kafka_2.13-"));
        for (String file : List.of(
                "conf/worker.yaml",
                "conf/worker.env",
                "conf/coordinator.yaml",
                "conf/coordinator.env",
                "systemd/chainmerge-worker.service",
                "systemd/chainmerge-coordinator.service",
                "LICENSE",
                "README.md")) {
            assertThat(home.resolve(file)).as(file).isRegularFile();
            assertThat(Files.readAllBytes(home.resolve(file)))
                    .as(file + " as in the sources")
                    .isEqualTo(Files.readAllBytes(source(file)));
        }
    }

    @Test
    void binChainmergePrintsItsVersionAndHelpWithOnlyAJavaRuntime() throws Exception {
        Run version = launcher(List.of("--version"));
        assertThat(version.exit()).as(version.output()).isZero();
        assertThat(version.output()).contains("chainmerge " + DeploymentChecks.projectVersion());

        Run help = launcher(List.of("--help"));
        assertThat(help.exit()).as(help.output()).isZero();
        assertThat(help.output())
                .contains("Usage: chainmerge")
                .contains("merge")
                .contains("worker");
    }

    @Test
    void theCompletionScriptIsTheOneTheCommandPrintsAndEveryCommandHasAManPage() throws Exception {
        Run completion = launcher(List.of("completion", "bash"));
        assertThat(completion.exit()).as(completion.output()).isZero();
        assertThat(Files.readString(home.resolve("completion/chainmerge")))
                .contains("_complete_chainmerge")
                .isEqualTo(completion.output());
        for (CommandLine command : ManPages.all(ChainmergeCommand.commandLine())) {
            assertThat(home.resolve("man/man1").resolve(ManPages.fileName(command.getCommandSpec())))
                    .content()
                    .contains(".TH ")
                    .contains("chainmerge " + ManPages.escape(DeploymentChecks.projectVersion()));
        }
    }

    @Test
    void aJavaOlderThan17IsNamedInsteadOfFailingOnClassVersions() throws Exception {
        // A runtime as old JDKs lay it out: bin/java (which must not be started) and a release file.
        Path old = Files.createDirectories(dir.resolve("java-11/bin"));
        Files.writeString(old.resolve("java"), "#!/bin/sh\necho started >&2\nexit 99\n");
        old.resolve("java").toFile().setExecutable(true);
        Files.writeString(old.getParent().resolve("release"), "JAVA_VERSION=\"11.0.2\"\n");
        Run run = run(dir, List.of(home.resolve("bin/chainmerge").toString(), "--version"), old.getParent());
        assertThat(run.exit()).as(run.output()).isEqualTo(ExitCodes.FAILURE);
        assertThat(run.output())
                .contains("is Java 11.0.2; chainmerge needs Java 17 or newer")
                .doesNotContain("started");
    }

    @Test
    void binChainmergeWorksThroughALinkAsAPackageInstallsIt() throws Exception {
        Path link = Files.createDirectories(dir.resolve("usr-bin")).resolve("chainmerge");
        Files.createSymbolicLink(link, home.resolve("bin/chainmerge"));
        Run version = run(dir, List.of(link.toString(), "--version"));
        assertThat(version.exit()).as(version.output()).isZero();
        assertThat(version.output()).contains("chainmerge " + DeploymentChecks.projectVersion());
    }

    @Test
    void theOfflineDemoMergesAndVerifiesAChainFromTheUnpackedArchive() throws Exception {
        Run demo = launcher(
                List.of("demo", "--offline", "--dir", dir.resolve("demo").toString()));
        assertThat(demo.exit()).as(demo.output()).isZero();
        assertThat(demo.output()).contains("OK: the merged disk reads exactly what the chain read");
    }

    @Test
    void theExampleSettingsLoadInTheDaemons() throws Exception {
        for (String role : SystemdUnitsTest.ROLES) {
            Run print = launcher(List.of(
                    role, "--config", home.resolve("conf/" + role + ".yaml").toString(), "--print-config"));
            assertThat(print.exit()).as(print.output()).isZero();
            assertThat(print.output()).contains(role + " configuration:");
        }
    }

    /** The image's entry point (the Dockerfile's runtime stage), run against this unpacked archive as the image holds it. */
    @Test
    void theImagesEntryPointRunsTheUnpackedArchive() throws Exception {
        List<DeploymentChecks.DockerStage> stages = DeploymentChecks.dockerStages(DeploymentChecks.read("Dockerfile"));
        String entrypoint = stages.get(stages.size() - 1).all("ENTRYPOINT").get(0);
        List<String> command = new ArrayList<>();
        for (JsonNode word : new JsonCodec().mapper().readTree(entrypoint)) {
            command.add(word.asText().replace("/opt/chainmerge/", home + "/"));
        }
        command.set(0, Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--version");
        Run version = run(dir, command);
        assertThat(version.exit()).as(version.output()).isZero();
        assertThat(version.output()).contains("chainmerge " + DeploymentChecks.projectVersion());
        assertThat(home.resolve("broker"))
                .as("the broker jars demo starts, beside the jar")
                .isDirectory();
    }

    /**
     * systemd's own check of the units, with ExecStart pointed at this unpacked copy (verify requires the
     * program to exist). An unknown key is only a warning to systemd, so any line naming a unit fails too.
     */
    @Test
    void theUnitsPassSystemdAnalyzeVerify() throws Exception {
        boolean installed = run(dir, List.of("systemd-analyze", "--version")).exit() == 0;
        if (!installed) {
            assertThat(System.getenv("CI"))
                    .as("systemd-analyze (Debian package systemd; .ci/run installs it)")
                    .isNotEqualTo("true");
            assumeTrue(
                    false,
                    "systemd-analyze is not installed (Debian: apt-get install systemd); units checked"
                            + " statically only (SystemdUnitsTest)");
        }
        Path units = Files.createDirectories(dir.resolve("units"));
        List<String> command = new ArrayList<>(List.of("systemd-analyze", "verify"));
        for (String role : SystemdUnitsTest.ROLES) {
            String name = "chainmerge-" + role + ".service";
            String unit = Files.readString(home.resolve("systemd/" + name))
                    .replace("/opt/chainmerge/", home.toString() + "/");
            Files.writeString(units.resolve(name), unit);
            command.add(units.resolve(name).toString());
        }
        Run verify = run(units, command);
        assertThat(verify.exit()).as(verify.output()).isZero();
        assertThat(verify.output().lines().filter(l -> l.contains("chainmerge-")))
                .as("systemd-analyze verify's warnings")
                .isEmpty();

        Path misspelt = units.resolve("chainmerge-misspelt.service");
        Files.writeString(
                misspelt,
                Files.readString(units.resolve("chainmerge-worker.service"))
                        .replace("NoNewPrivileges=", "NoNewPrivilege="));
        assertThat(run(units, List.of("systemd-analyze", "verify", misspelt.toString()))
                        .output())
                .contains("NoNewPrivilege");
    }

    // ---------------------------------------------------------------- helpers

    record Run(int exit, String output) {}

    private static Run launcher(List<String> args) throws Exception {
        List<String> command =
                new ArrayList<>(List.of(home.resolve("bin/chainmerge").toString()));
        command.addAll(args);
        return run(dir, command);
    }

    /** Runs a command with JAVA_HOME set to this JVM's runtime and its output gathered; at most 3 minutes. */
    private static Run run(Path workdir, List<String> command) throws Exception {
        return run(workdir, command, Path.of(System.getProperty("java.home")));
    }

    private static Run run(Path workdir, List<String> command, Path javaHome) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(workdir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("run.log").toFile());
        builder.environment().put("JAVA_HOME", javaHome.toString());
        builder.environment().remove("CHAINMERGE_JAVA_OPTS");
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            return new Run(127, e.getMessage());
        }
        if (!process.waitFor(3, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not end in 3 minutes");
        }
        return new Run(process.exitValue(), Files.readString(dir.resolve("run.log"), StandardCharsets.UTF_8));
    }

    private static List<String> jars(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).toList();
        }
    }

    private static Path source(String file) {
        return file.contains("/")
                ? DeploymentChecks.ROOT.resolve("cli/src/dist").resolve(file)
                : DeploymentChecks.ROOT.resolve(file);
    }
}
