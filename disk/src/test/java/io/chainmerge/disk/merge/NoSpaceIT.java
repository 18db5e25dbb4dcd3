package io.chainmerge.disk.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.Volume;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.ContentModel;
import io.chainmerge.disk.testing.Fingerprint;
import io.chainmerge.disk.testing.Oracles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A write that meets a full file system (a 48 MiB tmpfs, which needs root; skipped where mounting
 * is not allowed): nothing of it is committed afterwards, not even by closing, the chain reads as
 * before, and the same write succeeds once there is room.
 */
class NoSpaceIT {
    private static final int MIB = 1 << 20;
    private static final long WRITE_AT = 4L * MIB + 512;

    @TempDir
    Path parent;

    private Path volume;

    @BeforeEach
    void mountASmallFileSystem() throws IOException {
        volume = Files.createDirectory(parent.resolve("volume"));
        Oracles.Result mount =
                Oracles.run(List.of("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", volume.toString()), false);
        Assumptions.assumeTrue(
                mount.exitCode() == 0,
                () -> "cannot mount a tmpfs here (needs root): "
                        + mount.output().strip());
    }

    @AfterEach
    void unmount() {
        if (volume != null) {
            Oracles.run(List.of("umount", volume.toString()), false);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vhd", "vhdx"})
    void aWriteThatRunsOutOfSpaceCommitsNothingEvenOnClose(String format) throws IOException {
        ChainFixture chain = ChainFixture.withRoot(
                        volume, "base." + format, DiskSpec.dynamic(64L * MIB).withBlockSize(2 * MIB), 51)
                .writeAt(0, 16 * MIB)
                .child("base_1.a" + format)
                .writeAt(MIB, 4096);
        Path filler = volume.resolve("filler.bin");
        fill(filler, Volume.usableBytes(volume) - 6L * MIB);
        byte[] data = ContentModel.randomData(new Random(52), 20 * MIB);

        VirtualDisk disk = DiskFiles.open(chain.top(), Access.WRITE);
        // Into blocks the child does not hold: without a commit none of it may show, the parent's data stays.
        assertThatThrownBy(() -> disk.write(WRITE_AT, ByteBuffer.wrap(data))).isInstanceOf(IOException.class);
        String afterFailure = Fingerprint.of(chain.top());
        assertThatThrownBy(disk::commit)
                .isInstanceOf(IOException.class)
                .hasMessageContaining("an earlier write failed");
        disk.close();
        assertThat(Fingerprint.of(chain.top())).as("bytes after close").isEqualTo(afterFailure);

        Files.delete(filler);
        try (VirtualDisk reopened = DiskFiles.open(chain.top(), Access.WRITE)) {
            reopened.verify();
        }
        chain.assertReads(chain.top()); // the model has not taken the failed write

        try (VirtualDisk retry = DiskFiles.open(chain.top(), Access.WRITE)) {
            chain.model().writeBoth(retry, WRITE_AT, data);
        }
        chain.assertReads(chain.top());
    }

    private static void fill(Path file, long bytes) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer piece = ByteBuffer.allocate(MIB);
            for (long done = 0; done < bytes; done += MIB) {
                piece.clear().limit((int) Math.min(MIB, bytes - done));
                channel.write(piece);
            }
        }
    }
}
