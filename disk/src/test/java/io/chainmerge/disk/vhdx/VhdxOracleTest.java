package io.chainmerge.disk.vhdx;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.testing.ContentModel;
import io.chainmerge.disk.testing.Oracles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** VHDX files the engine writes read the same through qemu and libvhdi, and theirs through the engine. */
class VhdxOracleTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} MiB blocks, {1}-byte sectors, {2} bytes")
    @CsvSource({"1, 512, 67108864", "2, 512, 70000640", "32, 4096, 104857600", "256, 512, 300000256"})
    void dynamicDiskWrittenByTheEngineReadsTheSameInQemu(int blockMiB, int sector, long size) throws IOException {
        Oracles.requireQemu();
        Path file = dir.resolve("root.vhdx");
        ContentModel model = new ContentModel(size);
        DiskSpec spec =
                DiskSpec.dynamic(size).withBlockSize((int) (blockMiB * MIB)).withLogicalSectorSize(sector);
        try (VirtualDisk disk = DiskFiles.create(file, spec)) {
            writeRandom(disk, model, new Random(blockMiB * 31L + sector), 40, sector);
        }
        if (sector == 512) {
            Oracles.qemuCheckClean(file, "vhdx");
            model.assertRawEquals(Oracles.qemuToRaw(file, "vhdx", dir.resolve("root.raw")));
        } else {
            // qemu refuses VHDX files with 4096-byte logical sectors (ENOTSUP): libvhdi reads them.
            Oracles.requireLibvhdi();
            model.assertRawEquals(Oracles.vhdiToRaw(dir.resolve("root.raw"), file));
        }
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            disk.verify();
            model.assertChainEquals(List.of(disk));
        }
    }

    @Test
    void fixedDiskWrittenByTheEngineReadsTheSameInQemu() throws IOException {
        Oracles.requireQemu();
        Path file = dir.resolve("fixed.vhdx");
        long size = 48L * MIB + 4096;
        ContentModel model = new ContentModel(size);
        try (VirtualDisk disk = DiskFiles.create(file, DiskSpec.dynamic(size).withType(DiskType.FIXED))) {
            assertThat(disk.type()).isEqualTo(DiskType.FIXED);
            writeRandom(disk, model, new Random(7), 20, 512);
        }
        Oracles.qemuCheckClean(file, "vhdx");
        model.assertRawEquals(Oracles.qemuToRaw(file, "vhdx", dir.resolve("fixed.raw")));
    }

    @ParameterizedTest(name = "qemu {0} root, {1} block size")
    @CsvSource({"dynamic, 1M", "dynamic, 32M", "fixed, 8M"})
    void rootMadeByQemuReadsTheSameInTheEngine(String subformat, String blockSize) throws IOException {
        Oracles.requireQemu();
        Path file = dir.resolve("qemu.vhdx");
        long size = 96L * MIB;
        Oracles.qemuCreateVhdx(file, subformat, blockSize, size);
        ContentModel model = new ContentModel(size);
        qemuWrite(file, model, 0x11, 0, 4096);
        qemuWrite(file, model, 0x22, 3 * MIB + 512, 70 * 1024);
        qemuWrite(file, model, 0x33, 40 * MIB - 8192, 5 * MIB);
        qemuWrite(file, model, 0x44, size - 512, 512);
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            disk.verify();
            model.assertChainEquals(List.of(disk));
        }
    }

    @ParameterizedTest(name = "{0} MiB blocks over a qemu root")
    @CsvSource({"1", "8", "32"})
    void differencingChildMadeByTheEngineReadsTheSameInLibvhdi(int blockMiB) throws IOException {
        Oracles.requireQemu();
        Oracles.requireLibvhdi();
        Path root = dir.resolve("base.vhdx");
        long size = 80L * MIB + 512 * 7;
        Oracles.qemuCreateVhdx(root, "dynamic", blockMiB + "M", size);
        ContentModel model = new ContentModel(size);
        qemuWrite(root, model, 0x5a, 0, 20 * MIB);
        qemuWrite(root, model, 0xa5, 60 * MIB, 20 * MIB);
        Path child = dir.resolve("base_1.avhdx");
        Path grandchild = dir.resolve("base_2.avhdx");
        try (VirtualDisk parent = DiskFiles.open(root, Access.READ);
                VirtualDisk disk = DiskFiles.createDifferencing(child, parent)) {
            assertThat(disk.type()).isEqualTo(DiskType.DIFFERENCING);
            assertThat(disk.blockSize()).isEqualTo(parent.blockSize());
            writeRandom(disk, model, new Random(blockMiB), 30, 512);
        }
        try (VirtualDisk parent = DiskFiles.open(child, Access.READ);
                VirtualDisk disk = DiskFiles.createDifferencing(grandchild, parent)) {
            writeRandom(disk, model, new Random(blockMiB + 100), 30, 512);
        }
        model.assertRawEquals(Oracles.vhdiToRaw(dir.resolve("chain.raw"), grandchild, child, root));
        try (Chain chain = Chain.open(grandchild, Access.READ)) {
            assertThat(chain.depth()).isEqualTo(3);
            model.assertChainEquals(chain.levels());
        }
    }

    static void writeRandom(VirtualDisk disk, ContentModel model, Random random, int writes, int sector)
            throws IOException {
        long sectors = disk.virtualSize() / sector;
        for (int i = 0; i < writes; i++) {
            int length = (1 + random.nextInt(i % 5 == 0 ? 2048 : 16)) * sector;
            long first = (long) (random.nextDouble() * (sectors - length / sector));
            model.writeBoth(disk, first * sector, ContentModel.randomData(random, length));
        }
        disk.write(disk.virtualSize() - sector, java.nio.ByteBuffer.wrap(new byte[sector]));
        model.write(disk.virtualSize() - sector, new byte[sector]);
    }

    static void qemuWrite(Path file, ContentModel model, int pattern, long offset, int length) {
        Oracles.qemuIo(file, "vhdx", "write -P " + pattern + " " + offset + " " + length);
        byte[] data = new byte[length];
        java.util.Arrays.fill(data, (byte) pattern);
        model.write(offset, data);
    }
}
