package io.chainmerge.cli;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;

/** Chains with a chosen amount of data per level, for tests that need merges of a known size. */
final class Chains {
    static final long SIZE = 256L << 20;

    private Chains() {}

    static Path root(Path file, long seed, int mebibytes) throws IOException {
        try (VirtualDisk disk = DiskFiles.create(file, DiskSpec.dynamic(SIZE).withBlockSize(1 << 20))) {
            fill(disk, seed, mebibytes);
        }
        return file;
    }

    static Path child(Path file, Path parent, long seed, int mebibytes) throws IOException {
        try (VirtualDisk p = DiskFiles.open(parent, Access.READ);
                VirtualDisk disk = DiskFiles.createDifferencing(file, p)) {
            fill(disk, seed, mebibytes);
        }
        return file;
    }

    /** Writes {@code mebibytes} of random data in 1 MiB runs at distinct random places. */
    private static void fill(VirtualDisk disk, long seed, int mebibytes) throws IOException {
        Random random = new Random(seed);
        int slots = (int) (SIZE >> 20);
        boolean[] used = new boolean[slots];
        byte[] data = new byte[1 << 20];
        for (int i = 0; i < mebibytes; i++) {
            int slot;
            do {
                slot = random.nextInt(slots);
            } while (used[slot]);
            used[slot] = true;
            random.nextBytes(data);
            disk.write((long) slot << 20, ByteBuffer.wrap(data));
        }
        disk.commit();
    }
}
