package io.chainmerge.disk.testing;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.engines.DiskFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Builds chains for tests: a root, then differencing disks over it, each written like a VM writes
 * (random sizes and offsets from a fixed seed, partial blocks included), while a {@link ContentModel}
 * tracks what the top of the chain must read.
 */
public final class ChainFixture {
    private final Path dir;
    private final Random random;
    private final List<Path> files = new ArrayList<>();
    private final ContentModel model;
    private final int sector;

    private ChainFixture(Path dir, long seed, long virtualSize, int sector) {
        this.dir = dir;
        this.random = new Random(seed);
        this.model = new ContentModel(virtualSize);
        this.sector = sector;
    }

    /** A chain whose root the engine creates. */
    public static ChainFixture withRoot(Path dir, String name, DiskSpec spec, long seed) throws IOException {
        ChainFixture fixture = new ChainFixture(dir, seed, spec.virtualSize(), spec.logicalSectorSize());
        Path root = dir.resolve(name);
        DiskFiles.create(root, spec).close();
        fixture.files.add(root);
        return fixture;
    }

    /** A chain whose dynamic VHDX root qemu-img creates, with the given block size (e.g. "2M"). */
    public static ChainFixture withQemuRoot(Path dir, String name, long virtualSize, String blockSize, long seed) {
        Oracles.requireQemu();
        ChainFixture fixture = new ChainFixture(dir, seed, virtualSize, 512);
        Path root = dir.resolve(name);
        Oracles.qemuCreateVhdx(root, "dynamic", blockSize, virtualSize);
        fixture.files.add(root);
        return fixture;
    }

    /**
     * A chain whose dynamic or fixed VHD root qemu-img creates. Unless {@code forceSize}, qemu rounds
     * the size up to whole CHS cylinders; the model takes the size the file ends up with.
     */
    public static ChainFixture withQemuVhdRoot(
            Path dir, String name, String subformat, long requestedSize, boolean forceSize, long seed)
            throws IOException {
        Oracles.requireQemu();
        Path root = VhdOracles.qemuCreate(dir.resolve(name), subformat, requestedSize, forceSize);
        long virtualSize;
        try (VirtualDisk disk = DiskFiles.open(root, Access.READ)) {
            virtualSize = disk.virtualSize();
        }
        ChainFixture fixture = new ChainFixture(dir, seed, virtualSize, 512);
        fixture.files.add(root);
        return fixture;
    }

    /** Writes {@code writes} random regions into the current top of the chain. */
    public ChainFixture write(int writes) throws IOException {
        try (VirtualDisk disk = DiskFiles.open(top(), Access.WRITE)) {
            long sectors = disk.virtualSize() / sector;
            for (int i = 0; i < writes; i++) {
                int length = (1 + random.nextInt(i % 4 == 0 ? 4096 : 24)) * sector;
                long first = (long) (random.nextDouble() * (sectors - length / sector));
                model.writeBoth(disk, first * sector, ContentModel.randomData(random, length));
            }
        }
        return this;
    }

    /** Writes one region of random bytes at {@code offset} into the current top. */
    public ChainFixture writeAt(long offset, int length) throws IOException {
        try (VirtualDisk disk = DiskFiles.open(top(), Access.WRITE)) {
            model.writeBoth(disk, offset, ContentModel.randomData(random, length));
        }
        return this;
    }

    /** Makes a range read as zeros in the current top (as a VM's UNMAP would). */
    public ChainFixture zero(long offset, long length) throws IOException {
        try (VirtualDisk disk = DiskFiles.open(top(), Access.WRITE)) {
            disk.writeZeros(offset, length);
            model.zero(offset, length);
        }
        return this;
    }

    /** Adds a differencing disk over the current top. */
    public ChainFixture child(String name) throws IOException {
        Path child = dir.resolve(name);
        try (VirtualDisk parent = DiskFiles.open(top(), Access.READ)) {
            DiskFiles.createDifferencing(child, parent).close();
        }
        files.add(child);
        return this;
    }

    public Path top() {
        return files.get(files.size() - 1);
    }

    public Path root() {
        return files.get(0);
    }

    /** Files from the root (0) up. */
    public Path file(int level) {
        return files.get(level);
    }

    public List<Path> files() {
        return List.copyOf(files);
    }

    public ContentModel model() {
        return model;
    }

    /** Asserts the chain from {@code top} reads what the model says. */
    public void assertReads(Path top) throws IOException {
        try (Chain chain = Chain.open(top, Access.READ)) {
            model.assertChainEquals(chain.levels());
        }
    }

    public static void writeBytes(VirtualDisk disk, long offset, byte[] data) throws IOException {
        disk.write(offset, ByteBuffer.wrap(data));
    }
}
