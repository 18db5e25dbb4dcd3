package io.chainmerge.worker;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.chain.ChainReader;
import io.chainmerge.disk.engines.DiskFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;

/** Small real disks for the worker's tests, written like a VM would, with fixed seeds. */
final class SampleDisks {
    static final long SIZE = 64L << 20;

    private SampleDisks() {}

    static Path root(Path file, long seed, int writes) throws IOException {
        try (VirtualDisk disk = DiskFiles.create(file, DiskSpec.dynamic(SIZE).withBlockSize(1 << 20))) {
            write(disk, new Random(seed), writes);
        }
        return file;
    }

    static Path child(Path file, Path parent, long seed, int writes) throws IOException {
        try (VirtualDisk p = DiskFiles.open(parent, Access.READ);
                VirtualDisk disk = DiskFiles.createDifferencing(file, p)) {
            write(disk, new Random(seed), writes);
        }
        return file;
    }

    private static void write(VirtualDisk disk, Random random, int writes) throws IOException {
        for (int i = 0; i < writes; i++) {
            int sectors = 64 + random.nextInt(2048);
            long at = (long) (random.nextDouble() * (SIZE / 512 - sectors)) * 512;
            byte[] data = new byte[sectors * 512];
            random.nextBytes(data);
            disk.write(at, ByteBuffer.wrap(data));
        }
        disk.commit();
    }

    /** SHA-256 of the virtual disk the chain topped by {@code top} presents. */
    static String digest(Path top) throws IOException {
        try (Chain chain = Chain.open(top, Access.READ)) {
            ChainReader reader = new ChainReader(chain);
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            ByteBuffer buffer = ByteBuffer.allocate(4 << 20);
            for (long at = 0; at < reader.virtualSize(); at += buffer.capacity()) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), reader.virtualSize() - at));
                reader.read(at, buffer);
                sha.update(buffer.flip());
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
