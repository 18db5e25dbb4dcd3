package io.chainmerge.disk.vhdx;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.testing.ChildJvm;
import io.chainmerge.disk.testing.ContentModel;
import io.chainmerge.disk.testing.Fingerprint;
import io.chainmerge.disk.testing.Oracles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file whose last change is only in the log (the writer died after flushing the log entry, before
 * the BAT in place) reads with that change, replays it crash-safely, and qemu replays our log entries
 * to the same content.
 */
class VhdxLogIT {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    private Path file;
    private ContentModel model;

    @BeforeEach
    void fileWithAPendingLog() throws Exception {
        file = dir.resolve("disk.vhdx");
        model = new ContentModel(64L * MIB);
        Random random = new Random(5);
        try (VirtualDisk disk =
                DiskFiles.create(file, DiskSpec.dynamic(64L * MIB).withBlockSize(MIB))) {
            model.writeBoth(disk, 0, ContentModel.randomData(random, 3 * MIB));
        }
        byte[] data = ContentModel.randomData(random, 5 * MIB + 4096);
        Path input = dir.resolve("data.bin");
        Files.write(input, data);
        ChildJvm.Outcome crashed = ChildJvm.run(
                "vhdx.commit.logged", "write", file.toString(), String.valueOf(20 * MIB), input.toString());
        assertThat(crashed.crashedAtPoint()).as(crashed.output()).isTrue();
        model.write(20L * MIB, data);
        Files.delete(input);
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            assertThat(disk.details().get("logGuid")).isNotEqualTo("00000000-0000-0000-0000-000000000000");
        }
    }

    @Test
    void aReadOnlyOpenReplaysTheLogInMemoryAndWritesNothing() throws IOException {
        String before = Fingerprint.of(file);
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            assertThat(disk.details().get("logReplayedInMemory")).isEqualTo(true);
            disk.verify();
            model.assertChainEquals(List.of(disk));
        }
        assertThat(Fingerprint.of(file)).isEqualTo(before);
    }

    @Test
    void qemuReplaysTheLogTheEngineWrote() throws IOException {
        Oracles.requireQemu();
        Path copy = Files.copy(file, dir.resolve("copy.vhdx"), StandardCopyOption.COPY_ATTRIBUTES);
        Oracles.qemuImg("check", "-r", "all", "-f", "vhdx", copy.toString());
        Oracles.qemuCheckClean(copy, "vhdx");
        model.assertRawEquals(Oracles.qemuToRaw(copy, "vhdx", dir.resolve("copy.raw")));
    }

    @Test
    void aReplayKilledHalfwayIsFinishedByTheNextOpen() throws Exception {
        ChildJvm.Outcome crashed = ChildJvm.run("vhdx.replay.applying", "open-write", file.toString());
        assertThat(crashed.crashedAtPoint()).as(crashed.output()).isTrue();
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            model.assertChainEquals(List.of(disk));
        }

        ChildJvm.Outcome reopened = ChildJvm.run(null, "open-write", file.toString());
        assertThat(reopened.exitStatus()).as(reopened.output()).isZero();

        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            assertThat(disk.details().get("logGuid")).isEqualTo("00000000-0000-0000-0000-000000000000");
            disk.verify();
            model.assertChainEquals(List.of(disk));
        }
        if (Files.isExecutable(Path.of("/usr/bin/qemu-img"))) {
            Oracles.qemuCheckClean(file, "vhdx"); // no log left: qemu opens it read-only
            model.assertRawEquals(Oracles.qemuToRaw(file, "vhdx", dir.resolve("replayed.raw")));
        }
    }

    @Test
    void libvhdiReadsTheFileOnceTheEngineHasReplayedTheLog() throws Exception {
        Oracles.requireLibvhdi();
        assertThat(ChildJvm.run(null, "open-write", file.toString()).exitStatus())
                .isZero();
        model.assertRawEquals(Oracles.vhdiToRaw(dir.resolve("vhdi.raw"), file));
    }
}
