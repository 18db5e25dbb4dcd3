package io.chainmerge.disk.merge;

import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.ContentModel;
import io.chainmerge.disk.testing.Oracles;
import io.chainmerge.disk.testing.VhdOracles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * base ← top with {@code childData} bytes in top, for merges run at a fixed rate in child JVMs while a
 * test does something to the chain; and the check that qemu-img reads the merged base as the chain read.
 */
record SlowMergeChain(ChainFixture chain, ContentModel expected) {
    private static final long MIB = 1 << 20;

    static SlowMergeChain build(Path dir, String format, long childData, long seed) throws IOException {
        ChainFixture chain = ChainFixture.withRoot(
                        dir, "base." + format, DiskSpec.dynamic(64 * MIB).withBlockSize((int) (2 * MIB)), seed)
                .write(20)
                .child("top.a" + format)
                .writeAt(4 * MIB, (int) childData)
                .write(20);
        return new SlowMergeChain(chain, chain.model().copy());
    }

    void assertBaseReadsTheMergedChain(Path dir) throws IOException {
        Path raw = chain.root().toString().endsWith(".vhdx")
                ? Oracles.qemuToRaw(chain.root(), "vhdx", dir.resolve("base.raw"))
                : VhdOracles.qemuToRaw(chain.root(), dir.resolve("base.raw"));
        expected.assertRawEquals(raw);
    }
}
