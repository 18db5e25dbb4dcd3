package io.chainmerge.disk.vhdx;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.merge.Merge;
import io.chainmerge.disk.merge.MergeProgress;
import io.chainmerge.disk.merge.MergeRequest;
import io.chainmerge.disk.testing.ContentModel;
import io.chainmerge.disk.testing.Oracles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hyper-V's shape: checkpoints with 2 MiB blocks over a parent with 32 MiB blocks. Block boundaries
 * differ between levels, so every merge window has pieces that cross the destination's blocks.
 */
class MixedBlockSizeChainTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void chainsWhoseLevelsHaveDifferentBlockSizesReadAndMergeCorrectly() throws IOException {
        Oracles.requireQemu();
        Oracles.requireLibvhdi();
        long size = 100L * MIB;
        Path root = dir.resolve("vm.vhdx");
        Oracles.qemuCreateVhdx(root, "dynamic", "32M", size);
        ContentModel model = new ContentModel(size);
        Oracles.qemuIo(root, "vhdx", "write -P 0x61 0 40M");
        model.write(0, filled(40 * MIB, 0x61));

        Path checkpoint1 = dir.resolve("vm_1.avhdx");
        Path checkpoint2 = dir.resolve("vm_2.avhdx");
        try (VhdxFile parent = VhdxFile.open(root, Access.READ);
                VirtualDisk child = VhdxCreator.createDifferencing(checkpoint1, parent, 2 * MIB)) {
            VhdxOracleTest.writeRandom(child, model, new Random(21), 40, 512);
        }
        try (VhdxFile parent = VhdxFile.open(checkpoint1, Access.READ);
                VirtualDisk child = VhdxCreator.createDifferencing(checkpoint2, parent, MIB)) {
            assertThat(child.blockSize()).isEqualTo(MIB);
            VhdxOracleTest.writeRandom(child, model, new Random(22), 40, 512);
        }
        model.assertRawEquals(Oracles.vhdiToRaw(dir.resolve("chain.raw"), checkpoint2, checkpoint1, root));
        try (Chain chain = Chain.open(checkpoint2, Access.READ)) {
            model.assertChainEquals(chain.levels());
        }

        Merge.run(MergeRequest.of(checkpoint2).withDestination(root), MergeProgress.NONE);

        Oracles.qemuCheckClean(root, "vhdx");
        model.assertRawEquals(Oracles.qemuToRaw(root, "vhdx", dir.resolve("merged.raw")));
    }

    private static byte[] filled(int length, int value) {
        byte[] data = new byte[length];
        java.util.Arrays.fill(data, (byte) value);
        return data;
    }
}
