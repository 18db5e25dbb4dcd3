package io.chainmerge.disk.vhd;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.SpaceEstimator;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.testing.ContentModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The space estimator predicts a VHD's growth exactly: whole blocks (bitmap and data, placed 4 KiB
 * aligned) plus the footer's move, from the same decisions the write path makes.
 */
class VhdSpaceEstimateTest {
    private static final int KIB = 1024;
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    record Write(long offset, long length, boolean zeros) {}

    @ParameterizedTest(name = "{0} disk, {1}-byte blocks, {2} bytes")
    @CsvSource({
        "dynamic, 2097152, 100663296",
        "dynamic, 524288, 70001152",
        "differencing, 2097152, 100663296",
        "differencing, 524288, 70001152"
    })
    void estimatedGrowthIsTheMeasuredGrowth(String kind, int blockSize, long size) throws IOException {
        Path file = disk(kind.equals("differencing"), blockSize, size);
        List<Write> writes = plan(size, blockSize);
        long estimated;
        long before = Files.size(file);
        try (VirtualDisk disk = DiskFiles.open(file, Access.WRITE)) {
            SpaceEstimator estimator = disk.spaceEstimator();
            for (Write write : writes) {
                estimator.add(write.offset(), write.length(), write.zeros());
            }
            estimated = estimator.growthBytes();
            Random random = new Random(size);
            for (Write write : writes) {
                if (write.zeros()) {
                    disk.writeZeros(write.offset(), write.length());
                } else {
                    disk.write(write.offset(), ByteBuffer.wrap(ContentModel.randomData(random, (int) write.length())));
                }
            }
        }
        long measured = Files.size(file) - before;
        assertThat(estimated).isPositive().isEqualTo(measured);
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            disk.verify();
        }
    }

    @Test
    void zerosOverAbsentBlocksOfADynamicDiskNeedNoSpace() throws IOException {
        Path file = disk(false, VhdFile.DEFAULT_BLOCK_SIZE, 64L * MIB);
        long before = Files.size(file);
        try (VirtualDisk disk = DiskFiles.open(file, Access.WRITE)) {
            SpaceEstimator estimator = disk.spaceEstimator();
            estimator.add(8L * MIB, 16L * MIB, true);
            assertThat(estimator.growthBytes()).isZero();
            disk.writeZeros(8L * MIB, 16L * MIB);
        }
        assertThat(Files.size(file)).isEqualTo(before);
    }

    @Test
    void fixedDiskNeverGrows() throws IOException {
        Path file = dir.resolve("fixed.vhd");
        try (VirtualDisk disk =
                DiskFiles.create(file, DiskSpec.dynamic(8L * MIB).withType(DiskType.FIXED))) {
            SpaceEstimator estimator = disk.spaceEstimator();
            estimator.add(0, 8L * MIB, false);
            assertThat(estimator.growthBytes()).isZero();
            disk.write(0, ByteBuffer.allocate(8 * MIB));
        }
        assertThat(Files.size(file)).isEqualTo(8L * MIB + 512);
    }

    /** A disk with a few blocks in it: a root, or a child of one. */
    private Path disk(boolean differencing, int blockSize, long size) throws IOException {
        Path root = dir.resolve("base.vhd");
        Random random = new Random(blockSize);
        try (VirtualDisk disk = DiskFiles.create(root, DiskSpec.dynamic(size).withBlockSize(blockSize))) {
            disk.write(0, ByteBuffer.wrap(ContentModel.randomData(random, 3 * blockSize)));
        }
        if (!differencing) {
            return root;
        }
        Path child = dir.resolve("base_1.avhd");
        try (VirtualDisk parent = DiskFiles.open(root, Access.READ);
                VirtualDisk disk = DiskFiles.createDifferencing(child, parent)) {
            disk.write(blockSize + 512, ByteBuffer.wrap(ContentModel.randomData(random, 4 * KIB)));
            disk.write(10L * blockSize, ByteBuffer.wrap(ContentModel.randomData(random, blockSize)));
        }
        return child;
    }

    /**
     * Writes in ascending order over every case: partial and whole blocks, present and absent ones,
     * data and zeros, a run long enough to take several commits, and the short last block.
     */
    private static List<Write> plan(long size, int blockSize) {
        List<Write> writes = new ArrayList<>();
        writes.add(new Write(512, 1536, false)); // inside a block that is present
        writes.add(new Write(blockSize + 4 * KIB, 8 * KIB, true)); // zeros, present in a child only
        writes.add(new Write(4L * blockSize + 512, 512, false)); // one sector of an absent block
        writes.add(new Write(5L * blockSize, blockSize, true)); // a whole absent block of zeros
        writes.add(new Write(6L * blockSize + 3 * KIB, 2L * blockSize, false)); // across three blocks
        writes.add(new Write(10L * blockSize, 512, true)); // zeros into a block the child has
        writes.add(new Write(12L * blockSize, 40L * MIB, false)); // more than one commit's worth
        long last = size - 1536;
        writes.add(new Write(last, 1536, false)); // the short last block
        return writes;
    }
}
