package io.chainmerge.disk.vhd;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.chain.ChainReader;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.merge.Merge;
import io.chainmerge.disk.merge.MergeJournal;
import io.chainmerge.disk.merge.MergeProgress;
import io.chainmerge.disk.merge.MergeRequest;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.ChildJvm;
import io.chainmerge.disk.testing.ContentModel;
import io.chainmerge.disk.testing.Oracles;
import io.chainmerge.disk.testing.VhdOracles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * VHD writes without a log, proven by crashing them: a write, a re-point or a merge runs in its own JVM
 * and halts at a named step between two of its writes. What it leaves must open for writing (so it still
 * ends with a valid footer), pass {@link VirtualDisk#verify()}, read every sector as it was or as it was
 * being written, and running the operation again must finish it with the file a clean run makes.
 */
class VhdCrashIT {
    private static final int MIB = 1 << 20;
    /** Starts mid-block and off a bitmap byte, ends on one, and spans more than one commit's growth. */
    private static final long WRITE_AT = 3L * MIB + 1536;

    private static final int WRITE_LENGTH = 40 * MIB + 2560;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} of a {1} disk")
    @CsvSource({
        "vhd.grow.footer-moved#1, dynamic",
        "vhd.write.block-appended#1, dynamic",
        "vhd.write.block-appended#9, dynamic",
        "vhd.commit.data-flushed#1, dynamic",
        "vhd.commit.published#1, dynamic",
        "vhd.grow.footer-moved#2, dynamic",
        "vhd.write.block-appended#17, dynamic",
        "vhd.commit.data-flushed#2, dynamic",
        "vhd.grow.footer-moved#1, differencing",
        "vhd.write.block-appended#1, differencing",
        "vhd.write.block-appended#17, differencing",
        "vhd.commit.data-flushed#1, differencing",
        "vhd.commit.published#1, differencing",
        "vhd.grow.footer-moved#2, differencing",
        "vhd.commit.data-flushed#2, differencing",
        "vhd.commit.published#2, differencing"
    })
    void aWriteKilledAtAnyStepLeavesEachSectorOldOrNewAndFinishesWhenRunAgain(String crashPoint, String kind)
            throws Exception {
        ChainFixture chain = ChainFixture.withRoot(dir, "base.vhd", DiskSpec.dynamic(64L * MIB), 41)
                .writeAt(0, 6 * MIB);
        if (kind.equals("differencing")) {
            chain.child("base_1.avhd").writeAt(4L * MIB + 512, 8192).writeAt(20L * MIB, 3 * MIB);
        }
        ContentModel before = chain.model().copy();
        byte[] data = ContentModel.randomData(new Random(42), WRITE_LENGTH);
        ContentModel after = chain.model().copy();
        after.write(WRITE_AT, data);
        Path dataFile = Files.write(dir.resolve("data.bin"), data);
        Path clean = cleanRun(chain, dataFile);

        ChildJvm.Outcome crashed = ChildJvm.run(
                crashPoint, "write", chain.top().toString(), String.valueOf(WRITE_AT), dataFile.toString());
        assertThat(crashed.crashedAtPoint())
                .as("reached %s:%n%s", crashPoint, crashed.output())
                .isTrue();

        openForWritingAndVerify(chain.top());
        assertEverySectorReadsOneOf(chain.top(), before, after);

        ChildJvm.Outcome rerun =
                ChildJvm.run(null, "write", chain.top().toString(), String.valueOf(WRITE_AT), dataFile.toString());
        assertThat(rerun.exitStatus()).as(rerun.output()).isZero();
        openForWritingAndVerify(chain.top());
        assertEverySectorReadsOneOf(chain.top(), after, after);
        assertThat(Files.size(chain.top())).isEqualTo(Files.size(clean));
        if (kind.equals("differencing")) {
            Oracles.requireLibvhdi();
            after.assertRawEquals(Oracles.vhdiToRaw(dir.resolve("chain.raw"), chain.top(), chain.root()));
        } else {
            after.assertRawEquals(VhdOracles.qemuToRaw(chain.top(), dir.resolve("root.raw")));
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "vhd.grow.footer-moved#1",
                "vhd.set-parent.locators-written",
                "vhd.commit.data-flushed#1",
                "vhd.commit.published#1"
            })
    void aRepointKilledAtAnyStepLeavesTheChildLinkedToOneOfItsParents(String crashPoint) throws Exception {
        ChainFixture chain = ChainFixture.withRoot(dir, "base.vhd", DiskSpec.dynamic(16L * MIB), 43)
                .write(6)
                .child("base_1.avhd")
                .write(6);
        Path copy = Files.createDirectories(dir.resolve("moved")).resolve("base.vhd");
        Files.copy(chain.root(), copy, StandardCopyOption.COPY_ATTRIBUTES);

        ChildJvm.Outcome crashed =
                ChildJvm.run(crashPoint, "set-parent", chain.top().toString(), copy.toString());
        assertThat(crashed.crashedAtPoint())
                .as("reached %s:%n%s", crashPoint, crashed.output())
                .isTrue();

        openForWritingAndVerify(chain.top());
        try (Chain opened = Chain.open(chain.top(), Access.READ)) {
            assertThat(opened.root().path()).isIn(chain.root().toRealPath(), copy.toRealPath());
            chain.model().assertChainEquals(opened.levels());
        }

        ChildJvm.Outcome rerun = ChildJvm.run(null, "set-parent", chain.top().toString(), copy.toString());
        assertThat(rerun.exitStatus()).as(rerun.output()).isZero();
        Files.delete(chain.root());
        try (Chain opened = Chain.open(chain.top(), Access.READ)) {
            assertThat(opened.root().path()).isEqualTo(copy.toRealPath());
            opened.top().verify();
            chain.model().assertChainEquals(opened.levels());
        }
    }

    @ParameterizedTest(name = "crash at {0}")
    @ValueSource(
            strings = {
                "merge.journal-written",
                "merge.linked",
                "merge.identity-changed",
                "vhd.grow.footer-moved#1",
                "vhd.write.block-appended#5",
                "vhd.commit.data-flushed#1",
                "vhd.commit.published#1",
                "merge.window-committed#1",
                "vhd.grow.footer-moved#3",
                "vhd.commit.published#3",
                "merge.window-committed#2",
                "merge.flushed",
                "merge.repointed",
                "merge.source-removed#1",
                "merge.source-removed#2"
            })
    void aVhdMergeKilledAtAnyStepLeavesTheSameDataAndFinishesWhenRunAgain(String crashPoint) throws Exception {
        MergeChain merge = mergeChain(crashPoint.hashCode());

        ChildJvm.Outcome crashed = ChildJvm.run(
                crashPoint,
                "merge",
                merge.newestSource().toString(),
                merge.chain().root().toString());
        assertThat(crashed.crashedAtPoint())
                .as("reached %s:%n%s", crashPoint, crashed.output())
                .isTrue();

        merge.assertEveryVisibleChainReadsAsBefore();
        merge.finishAndCheck();
    }

    @Test
    void aVhdMergeKilledAtRandomInstantsAlwaysLeavesTheSameDataAndFinishes() throws Exception {
        Random random = new Random(44);
        MergeChain merge = mergeChain(44);
        for (int kill = 0; kill < 5; kill++) {
            Process running = ChildJvm.start(
                    null,
                    "merge",
                    merge.newestSource().toString(),
                    merge.chain().root().toString(),
                    String.valueOf(24L * MIB));
            if (running.waitFor(300 + random.nextInt(2500), TimeUnit.MILLISECONDS)) {
                assertThat(running.exitValue()).isZero();
                break;
            }
            running.destroyForcibly().waitFor();
            merge.assertEveryVisibleChainReadsAsBefore();
            if (!Files.exists(merge.newestSource()) && !Files.exists(MergeJournal.pathFor(merge.newestSource()))) {
                break;
            }
        }
        merge.finishAndCheck();
    }

    /**
     * base.vhd ← c1 ← c2 ← top: merging c2 and c1 into base takes three 64 MiB windows, several
     * commits, a re-point of top and two deletions.
     */
    private MergeChain mergeChain(long seed) throws IOException {
        ChainFixture chain = ChainFixture.withRoot(dir, "base.vhd", DiskSpec.dynamic(160L * MIB), seed)
                .write(10)
                .child("c1.avhd")
                .write(30)
                .writeAt(130L * MIB, 6 * MIB)
                .child("c2.avhd")
                .write(30)
                .writeAt(70L * MIB + 512, 3 * MIB);
        ContentModel sourcesView = chain.model().copy();
        chain.child("top.avhd").write(10);
        return new MergeChain(chain, sourcesView);
    }

    private record MergeChain(ChainFixture chain, ContentModel sourcesView) {
        Path newestSource() {
            return chain.file(2);
        }

        void assertEveryVisibleChainReadsAsBefore() throws IOException {
            chain.assertReads(chain.top());
            if (Files.exists(newestSource())) {
                try (Chain levels = Chain.open(newestSource(), Access.READ)) {
                    sourcesView.assertChainEquals(levels.levels());
                }
            }
        }

        void finishAndCheck() throws IOException {
            if (Files.exists(newestSource()) || Files.exists(MergeJournal.pathFor(newestSource()))) {
                Merge.run(MergeRequest.of(newestSource()).withDestination(chain.root()), MergeProgress.NONE);
            }
            assertThat(chain.file(1)).doesNotExist();
            assertThat(chain.file(2)).doesNotExist();
            assertThat(MergeJournal.pathFor(newestSource())).doesNotExist();
            chain.assertReads(chain.top());
            openForWritingAndVerify(chain.root());
            sourcesView.assertRawEquals(
                    VhdOracles.qemuToRaw(chain.root(), chain.root().resolveSibling("merged.raw")));
        }
    }

    /** The same write, uninterrupted, on a copy of the files: the size a crash-free run gives. */
    private Path cleanRun(ChainFixture chain, Path dataFile) throws IOException {
        Path copies = Files.createDirectories(dir.resolve("clean"));
        for (Path file : chain.files()) {
            Files.copy(file, copies.resolve(file.getFileName()));
        }
        Path top = copies.resolve(chain.top().getFileName());
        try (VirtualDisk disk = DiskFiles.open(top, Access.WRITE)) {
            disk.write(WRITE_AT, ByteBuffer.wrap(Files.readAllBytes(dataFile)));
        }
        return top;
    }

    /** Opening for writing needs a valid footer at the end; every block must lie where it may. */
    private static void openForWritingAndVerify(Path file) throws IOException {
        try (VirtualDisk disk = DiskFiles.open(file, Access.WRITE)) {
            disk.verify();
        }
    }

    /** Every 512-byte sector of the chain from {@code top} reads as in {@code old} or as in {@code now}. */
    private static void assertEverySectorReadsOneOf(Path top, ContentModel old, ContentModel now) throws IOException {
        try (Chain chain = Chain.open(top, Access.READ)) {
            ChainReader reader = new ChainReader(chain);
            int piece = MIB;
            byte[] actual = new byte[piece];
            byte[] expectedOld = new byte[piece];
            byte[] expectedNew = new byte[piece];
            for (long offset = 0; offset < reader.virtualSize(); offset += piece) {
                reader.read(offset, ByteBuffer.wrap(actual));
                old.read(offset, expectedOld);
                now.read(offset, expectedNew);
                for (int at = 0; at < piece; at += 512) {
                    boolean isOld = Arrays.equals(actual, at, at + 512, expectedOld, at, at + 512);
                    boolean isNew = Arrays.equals(actual, at, at + 512, expectedNew, at, at + 512);
                    assertThat(isOld || isNew)
                            .as("sector at %d reads neither the old nor the new content", offset + at)
                            .isTrue();
                }
            }
        }
    }
}
