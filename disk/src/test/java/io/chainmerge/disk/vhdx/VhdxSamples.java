package io.chainmerge.disk.vhdx;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.testing.ChildJvm;
import io.chainmerge.disk.testing.ContentModel;
import io.chainmerge.disk.testing.Oracles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Small valid VHDX files of every kind the corrupt-input tests and the fuzzer start from, each a
 * two-level chain {@code base.vhdx <- base_1.avhdx} in its own folder, written from fixed seeds:
 * roots made by the engine and by qemu-img (dynamic and fixed), a differencing child with fully and
 * partially present blocks and a sector bitmap, and a child whose last write died after its log
 * entry was flushed (a pending log).
 */
enum VhdxSamples {
    ENGINE_DYNAMIC("engine-dynamic", false),
    ENGINE_FIXED("engine-fixed", false),
    QEMU_DYNAMIC("qemu-dynamic", false),
    QEMU_FIXED("qemu-fixed", false),
    ENGINE_CHILD("engine-dynamic", true),
    PENDING_LOG("pending-log", true);

    static final String ROOT = "base.vhdx";
    static final String CHILD = "base_1.avhdx";
    static final long MIB = 1 << 20;

    private final String folder;
    private final boolean child;

    VhdxSamples(String folder, boolean child) {
        this.folder = folder;
        this.child = child;
    }

    /** The folder holding this sample's chain, under {@code root}. */
    Path folder(Path root) {
        return root.resolve(folder);
    }

    /** The file of the chain this sample is about. */
    String target() {
        return child ? CHILD : ROOT;
    }

    boolean isChild() {
        return child;
    }

    boolean madeByQemu() {
        return this == QEMU_DYNAMIC || this == QEMU_FIXED;
    }

    boolean isFixed() {
        return this == ENGINE_FIXED || this == QEMU_FIXED;
    }

    boolean hasPendingLog() {
        return this == PENDING_LOG;
    }

    /** Writes every sample's chain under {@code root}; qemu's only where qemu-img is installed. */
    static void writeAll(Path root) throws Exception {
        engineChain(root.resolve("engine-dynamic"), DiskSpec.dynamic(8 * MIB).withBlockSize((int) MIB), 1);
        engineChain(
                root.resolve("engine-fixed"),
                DiskSpec.dynamic(4 * MIB).withBlockSize((int) MIB).withType(DiskType.FIXED),
                2);
        if (qemuPresent()) {
            qemuChain(root.resolve("qemu-dynamic"), "dynamic", 8 * MIB, 3);
            qemuChain(root.resolve("qemu-fixed"), "fixed", 4 * MIB, 4);
        }
        pendingLogChain(root.resolve("pending-log"));
    }

    static boolean qemuPresent() {
        return Files.isExecutable(Path.of("/usr/bin/qemu-img")) && Files.isExecutable(Path.of("/usr/bin/qemu-io"));
    }

    private static void engineChain(Path folder, DiskSpec spec, long seed) throws IOException {
        Files.createDirectories(folder);
        Random random = new Random(seed);
        Path root = folder.resolve(ROOT);
        try (VirtualDisk disk = DiskFiles.create(root, spec)) {
            write(disk, random, 0, (int) MIB); // a whole block
            write(disk, random, 2 * MIB + MIB / 2, 64 * 1024);
            write(disk, random, spec.virtualSize() - 4096, 4096);
        }
        writeChild(folder, random);
    }

    private static void qemuChain(Path folder, String subformat, long size, long seed) throws IOException {
        Files.createDirectories(folder);
        Path root = folder.resolve(ROOT);
        Oracles.qemuCreateVhdx(root, subformat, "1M", size);
        Oracles.qemuIo(root, "vhdx", "write -P 0x5a 0 1M", "write -P 0xa5 2621440 64k", "write -P 0x33 3584k 4k");
        writeChild(folder, new Random(seed));
    }

    /** A child with a partially present block (so a sector bitmap block), a fully present one, and zeros. */
    private static void writeChild(Path folder, Random random) throws IOException {
        try (VirtualDisk parent = DiskFiles.open(folder.resolve(ROOT), Access.READ);
                VirtualDisk child = DiskFiles.createDifferencing(folder.resolve(CHILD), parent)) {
            write(child, random, 512, 4096);
            write(child, random, MIB + 8192, (int) MIB);
            child.writeZeros(3 * MIB, MIB);
        }
    }

    private static void pendingLogChain(Path folder) throws Exception {
        engineChain(folder, DiskSpec.dynamic(8 * MIB).withBlockSize((int) MIB), 5);
        Path data = folder.resolve("data.bin");
        Files.write(data, ContentModel.randomData(new Random(6), (int) MIB + 4096));
        ChildJvm.Outcome crashed = ChildJvm.run(
                "vhdx.commit.logged",
                "write",
                folder.resolve(CHILD).toString(),
                String.valueOf(5 * MIB + 4096),
                data.toString());
        assertThat(crashed.crashedAtPoint()).as(crashed.output()).isTrue();
        Files.delete(data);
    }

    private static void write(VirtualDisk disk, Random random, long offset, int length) throws IOException {
        disk.write(offset, ByteBuffer.wrap(ContentModel.randomData(random, length)));
    }
}
