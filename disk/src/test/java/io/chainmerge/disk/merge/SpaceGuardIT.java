package io.chainmerge.disk.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import io.chainmerge.disk.Volume;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.Fingerprint;
import io.chainmerge.disk.testing.Oracles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Invariant 3 on a real, small file system: a merge that would not fit is refused before it writes,
 * with the exact figures, and runs once there is room; it never meets ENOSPC. Mounts a 48 MiB tmpfs,
 * which needs root; skipped with the reason where mounting is not allowed.
 */
class SpaceGuardIT {
    private static final int MIB = 1 << 20;

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

    @Test
    void aMergeThatWouldNotFitIsRefusedAndRunsOnceThereIsRoom() throws IOException {
        ChainFixture chain = ChainFixture.withRoot(
                        volume, "base.vhdx", DiskSpec.dynamic(64L * MIB).withBlockSize(MIB), 3)
                .writeAt(0, 2 * MIB)
                .child("base_1.avhdx")
                .writeAt(8L * MIB, 12 * MIB); // 12 new blocks for the base: 12 MiB of growth
        MergeRequest request = MergeRequest.of(chain.top()).withReserve(Reserve.parse("1M"));
        long required = Merge.plan(request).space().requiredBytes();
        assertThat(required).isEqualTo(12L * MIB);

        // Leave 8 MiB: less than the growth plus the reserve.
        Path filler = fill(volume.resolve("filler.bin"), Volume.usableBytes(volume) - 8L * MIB);
        Map<Path, String> before = Fingerprint.ofTree(volume);
        MergePlan refusedPlan = Merge.plan(request);
        assertThat(refusedPlan.space().fits()).isFalse();
        assertThatThrownBy(() -> Merge.run(request, MergeProgress.NONE))
                .isInstanceOfSatisfying(GuardRefusal.class, refusal -> {
                    assertThat(refusal.guard()).isEqualTo(Guard.SPACE);
                    assertThat(refusal.figures()).containsEntry("requiredBytes", 12L * MIB);
                    assertThat((Long) refusal.figures().get("availableBytes")).isLessThan(12L * MIB);
                });
        assertThat(Fingerprint.ofTree(volume)).isEqualTo(before);

        // Free 6 MiB: 14 MiB usable, 13 needed with the reserve.
        shrink(filler, Files.size(filler) - 6L * MIB);
        MergeReport report = Merge.run(request, MergeProgress.NONE);

        assertThat(report.destinationGrowthBytes()).isEqualTo(required);
        assertThat(chain.top()).doesNotExist();
        chain.assertReads(chain.root());
    }

    @Test
    void aFlattenThatWouldNotFitIsRefusedBeforeTheNewFileExists() throws IOException {
        ChainFixture chain = ChainFixture.withRoot(
                        volume, "base.vhdx", DiskSpec.dynamic(24L * MIB).withBlockSize(MIB), 4)
                .writeAt(0, 4 * MIB)
                .child("base_1.avhdx")
                .writeAt(10L * MIB, 2 * MIB);
        Path flat = volume.resolve("flat.vhdx");
        MergeRequest request =
                MergeRequest.of(chain.top()).withIntoNew(flat, DiskType.FIXED).withReserve(Reserve.NONE);
        fill(volume.resolve("filler.bin"), Volume.usableBytes(volume) - 20L * MIB);

        assertThatThrownBy(() -> Merge.run(request, MergeProgress.NONE))
                .isInstanceOfSatisfying(GuardRefusal.class, refusal -> assertThat(refusal.guard())
                        .isEqualTo(Guard.SPACE));
        try (var files = Files.list(volume)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("base.vhdx", "base_1.avhdx", "filler.bin");
        }

        MergeRequest dynamic =
                MergeRequest.of(chain.top()).withIntoNew(flat, DiskType.DYNAMIC).withReserve(Reserve.NONE);
        Merge.run(dynamic, MergeProgress.NONE);
        chain.assertReads(flat);
    }

    private static Path fill(Path file, long bytes) throws IOException {
        ByteBuffer ones = ByteBuffer.allocate(MIB);
        while (ones.hasRemaining()) {
            ones.put((byte) 1);
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long written = 0; written < bytes; ) {
                ones.clear().limit((int) Math.min(MIB, bytes - written));
                written += channel.write(ones);
            }
        }
        return file;
    }

    private static void shrink(Path file, long size) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(size);
        }
    }
}
