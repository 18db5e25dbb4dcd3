package io.chainmerge.disk.vhd;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.testing.ContentModel;
import io.chainmerge.disk.testing.Oracles;
import io.chainmerge.disk.testing.VhdOracles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * VHD files the engine writes read the same through qemu (roots) and libvhdi (chains), and files qemu
 * writes read the same through the engine. qemu is never asked to read a differencing VHD: it opens one
 * as if it were dynamic and returns wrong data without an error.
 */
class VhdOracleTest {
    private static final int KIB = 1024;
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}-byte blocks, {1} bytes")
    @CsvSource({"2097152, 67108864", "2097152, 70001152", "524288, 33554944", "524288, 5000192"})
    void dynamicDiskWrittenByTheEngineReadsTheSameInQemuAndLibvhdi(int blockSize, long size) throws IOException {
        Oracles.requireQemu();
        Oracles.requireLibvhdi();
        Path file = dir.resolve("root.vhd");
        ContentModel model = new ContentModel(size);
        try (VirtualDisk disk = DiskFiles.create(file, DiskSpec.dynamic(size).withBlockSize(blockSize))) {
            assertThat(disk.virtualSize()).isEqualTo(size);
            writeRandom(disk, model, new Random(blockSize + size), 40, 1);
        }
        model.assertRawEquals(VhdOracles.qemuToRaw(file, dir.resolve("qemu.raw")));
        model.assertRawEquals(Oracles.vhdiToRaw(dir.resolve("vhdi.raw"), file));
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            disk.verify();
            model.assertChainEquals(List.of(disk));
        }
    }

    @Test
    void fixedDiskWrittenByTheEngineReadsTheSameInQemuAndLibvhdi() throws IOException {
        Oracles.requireQemu();
        Oracles.requireLibvhdi();
        Path file = dir.resolve("fixed.vhd");
        long size = 24L * MIB + 3 * 512;
        ContentModel model = new ContentModel(size);
        try (VirtualDisk disk = DiskFiles.create(file, DiskSpec.dynamic(size).withType(DiskType.FIXED))) {
            assertThat(disk.type()).isEqualTo(DiskType.FIXED);
            writeRandom(disk, model, new Random(7), 20, 1);
        }
        assertThat(file.toFile().length()).isEqualTo(size + 512);
        model.assertRawEquals(VhdOracles.qemuToRaw(file, dir.resolve("qemu.raw")));
        model.assertRawEquals(Oracles.vhdiToRaw(dir.resolve("vhdi.raw"), file));
    }

    @ParameterizedTest(name = "qemu {0} root of {1} bytes, force_size={2}")
    @CsvSource({"dynamic, 100000000, off", "dynamic, 70000000, on", "fixed, 50000000, off", "fixed, 30000128, on"})
    void rootMadeByQemuReadsTheSameInTheEngine(String subformat, long requested, String forceSize) throws IOException {
        Oracles.requireQemu();
        Path file = VhdOracles.qemuCreate(dir.resolve("qemu.vhd"), subformat, requested, forceSize.equals("on"));
        long size;
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            size = disk.virtualSize();
            assertThat(disk.type()).isEqualTo(subformat.equals("fixed") ? DiskType.FIXED : DiskType.DYNAMIC);
        }
        ContentModel model = new ContentModel(size);
        VhdOracles.qemuWrite(file, model, 0x11, 0, 4096);
        VhdOracles.qemuWrite(file, model, 0x22, 3 * MIB + 512, 70 * KIB);
        VhdOracles.qemuWrite(file, model, 0x33, 20 * MIB - 8192, 5 * MIB);
        VhdOracles.qemuWrite(file, model, 0x44, size - 512, 512);
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            disk.verify();
            model.assertChainEquals(List.of(disk));
        }
    }

    @ParameterizedTest(name = "qemu {0} root, force_size={1}")
    @CsvSource({"dynamic, off", "dynamic, on", "fixed, off"})
    void differencingChildrenMadeByTheEngineReadTheSameInLibvhdi(String subformat, String forceSize)
            throws IOException {
        Oracles.requireQemu();
        Oracles.requireLibvhdi();
        Path root =
                VhdOracles.qemuCreate(dir.resolve("base.vhd"), subformat, 80L * MIB + 7 * 512, forceSize.equals("on"));
        long size;
        try (VirtualDisk disk = DiskFiles.open(root, Access.READ)) {
            size = disk.virtualSize();
        }
        ContentModel model = new ContentModel(size);
        VhdOracles.qemuWrite(root, model, 0x5a, 0, 20 * MIB);
        VhdOracles.qemuWrite(root, model, 0xa5, 60 * MIB, 20 * MIB);
        Path child = dir.resolve("base_1.avhd");
        Path grandchild = dir.resolve("base_2.avhd");
        try (VirtualDisk parent = DiskFiles.open(root, Access.READ);
                VirtualDisk disk = DiskFiles.createDifferencing(child, parent)) {
            assertThat(disk.type()).isEqualTo(DiskType.DIFFERENCING);
            assertThat(disk.virtualSize()).isEqualTo(size);
            writeRandom(disk, model, new Random(11), 30, 8);
        }
        try (VirtualDisk parent = DiskFiles.open(child, Access.READ);
                VirtualDisk disk = DiskFiles.createDifferencing(grandchild, parent)) {
            writeRandom(disk, model, new Random(12), 30, 8);
        }
        model.assertRawEquals(Oracles.vhdiToRaw(dir.resolve("chain.raw"), grandchild, child, root));
        try (Chain chain = Chain.open(grandchild, Access.READ)) {
            assertThat(chain.depth()).isEqualTo(3);
            for (VirtualDisk level : chain.levels()) {
                level.verify();
            }
            model.assertChainEquals(chain.levels());
        }
    }

    /**
     * Writes {@code writes} random runs at offsets and lengths that are multiples of {@code granule}
     * sectors, and the disk's last sector.
     */
    static void writeRandom(VirtualDisk disk, ContentModel model, Random random, int writes, int granule)
            throws IOException {
        long granules = disk.virtualSize() / (512L * granule);
        for (int i = 0; i < writes; i++) {
            int length = (1 + random.nextInt(i % 5 == 0 ? 2048 / granule : 16)) * 512 * granule;
            long first = (long) (random.nextDouble() * (granules - length / (512L * granule)));
            model.writeBoth(disk, first * 512 * granule, ContentModel.randomData(random, length));
        }
        byte[] last = new byte[512 * granule];
        Arrays.fill(last, (byte) 0x7e);
        long lastOffset = (disk.virtualSize() - last.length) / last.length * last.length;
        disk.write(lastOffset, ByteBuffer.wrap(last));
        model.write(lastOffset, last);
    }
}
