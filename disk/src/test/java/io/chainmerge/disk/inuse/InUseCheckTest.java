package io.chainmerge.disk.inuse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.testing.OpenFileHolder;
import io.chainmerge.disk.testing.OpenFilesProbeMain;
import io.chainmerge.disk.testing.Oracles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-use probes of the engine itself, and what a check makes of their answers. */
class InUseCheckTest {
    private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");

    @TempDir
    Path dir;

    @Test
    void aProcessHoldingAFileOpenWithoutAnyLockIsNamedWithItsPidAndCommand() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "no /proc here");
        Path disk = Files.write(dir.resolve("base.vhdx"), new byte[512]).toRealPath();
        try (OpenFileHolder holder = OpenFileHolder.open(disk)) {
            List<InUseHolder> holders = new OpenFilesProbe().holders(List.of(disk));

            assertThat(holders).singleElement().satisfies(h -> {
                assertThat(h.file()).isEqualTo(disk);
                assertThat(h.holder()).startsWith("pid " + holder.pid() + " (/bin/sh -c exec 3<");
            });
            assertThatThrownBy(() -> new InUseCheck(List.of(new OpenFilesProbe()), true).check(List.of(disk)))
                    .isInstanceOf(GuardRefusal.class)
                    .hasMessageContaining("in use: pid " + holder.pid())
                    .hasMessageContaining("open-files probe");
        }
        assertThat(new OpenFilesProbe().holders(List.of(disk))).isEmpty();
    }

    /**
     * Run by a user who may not look into other users' processes, the probe cannot see a holder there:
     * it says so rather than answering "nobody". The probe runs as {@code nobody} in a JVM of its own,
     * while a root process holds the file open.
     */
    @Test
    void aProbeThatMayNotSeeOtherUsersProcessesSaysItCannotLook() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "no /proc here");
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to run the probe as another user");
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/runuser")), "no runuser here");
        String classes = Stream.of(OpenFilesProbe.class, OpenFilesProbeMain.class)
                .map(c -> Path.of(c.getProtectionDomain()
                                .getCodeSource()
                                .getLocation()
                                .getPath())
                        .toString())
                .collect(Collectors.joining(":"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        assumeTrue(
                Oracles.run(List.of("runuser", "-u", "nobody", "--", "test", "-r", classes.split(":")[0]), false)
                                .exitCode()
                        == 0,
                "the build's classes are not readable by nobody here");
        Path disk = Files.write(dir.resolve("held.vhdx"), new byte[512]).toRealPath();
        try (OpenFileHolder holder = OpenFileHolder.open(disk)) {
            Oracles.Result asNobody = Oracles.run(
                    List.of(
                            "runuser",
                            "-u",
                            "nobody",
                            "--",
                            java,
                            "-cp",
                            classes,
                            OpenFilesProbeMain.class.getName(),
                            disk.toString()),
                    true);

            assertThat(asNobody.output())
                    .startsWith("unavailable: ")
                    .contains("processes of other users hide their open files from this one");
        }
    }

    @Test
    void thisProcessesOwnOpensAreItsLockScopesBusinessNotAProbes() throws Exception {
        Path disk = Files.write(dir.resolve("own.vhdx"), new byte[512]).toRealPath();
        try (var channel = java.nio.channels.FileChannel.open(disk)) {
            assertThat(new OpenFilesProbe().holders(List.of(disk))).isEmpty();
        }
    }

    @Test
    void aFileWrittenWithinTheQuietPeriodIsInUseAndOneWrittenBeforeItIsNot() throws Exception {
        Path recent = Files.write(dir.resolve("recent.avhdx"), new byte[512]);
        Path old = Files.write(dir.resolve("old.vhdx"), new byte[512]);
        Files.setLastModifiedTime(recent, FileTime.from(NOW.minus(Duration.ofMinutes(4))));
        Files.setLastModifiedTime(old, FileTime.from(NOW.minus(Duration.ofMinutes(11))));
        QuietPeriodProbe probe = new QuietPeriodProbe(Duration.ofMinutes(10), Clock.fixed(NOW, ZoneOffset.UTC));

        assertThat(probe.holders(List.of(recent, old))).singleElement().satisfies(h -> assertThat(h.holder())
                .startsWith("written 240s ago, within the quiet period of 600s"));
    }

    @Test
    void aProbeThatCannotLookRefusesUnlessThePolicyIgnoresIt() throws Exception {
        Path disk = Files.write(dir.resolve("base.vhd"), new byte[512]);
        InUseProbe blind = new InUseProbe() {
            @Override
            public String name() {
                return "samba";
            }

            @Override
            public List<InUseHolder> holders(List<Path> files) throws ProbeUnavailableException {
                throw new ProbeUnavailableException("samba", "smbstatus exited 1: permission denied");
            }
        };

        assertThatThrownBy(() -> new InUseCheck(List.of(blind), true).check(List.of(disk)))
                .isInstanceOfSatisfying(GuardRefusal.class, refusal -> {
                    assertThat(refusal.guard()).isEqualTo(GuardRefusal.Guard.IN_USE);
                    assertThat(refusal.figures()).containsEntry("probe", "samba");
                })
                .hasMessageContaining("the samba probe cannot look (smbstatus exited 1: permission denied)");
        new InUseCheck(List.of(blind), false).check(List.of(disk)); // ignored: no refusal
        assertThat(new InUseCheck(List.of(blind), true).status())
                .containsEntry("samba", "unavailable: smbstatus exited 1: permission denied");
    }

    @Test
    void theFirstProbeThatSeesAHolderNamesItAndEveryHolderItSaw() throws Exception {
        Path disk = Files.write(dir.resolve("top.avhdx"), new byte[512]).toRealPath();
        InUseProbe hyperV = new InUseProbe() {
            @Override
            public String name() {
                return "hook";
            }

            @Override
            public List<InUseHolder> holders(List<Path> files) {
                return List.of(new InUseHolder("hook", files.get(0), "VM sql01 on hv-07"));
            }
        };

        assertThatThrownBy(() -> new InUseCheck(List.of(hyperV), true).check(List.of(dir.resolve("top.avhdx"))))
                .isInstanceOfSatisfying(GuardRefusal.class, refusal -> assertThat(refusal.figures())
                        .containsEntry("holder", "VM sql01 on hv-07")
                        .containsEntry("probe", "hook"))
                .hasMessage(disk + ": in use: VM sql01 on hv-07 (seen by the hook probe)");
    }
}
