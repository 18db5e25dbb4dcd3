package io.chainmerge.disk.merge;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.ChildJvm;
import io.chainmerge.disk.testing.ContentModel;
import io.chainmerge.disk.testing.Oracles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Invariant 1, proven by killing a real merge: a merge runs in its own JVM and dies at a named step
 * (or at a random instant); what it leaves must read exactly what the chain read before, and running
 * the merge again must finish it.
 *
 * <p>The chain: base ← c1 ← c2 ← top. The merge takes c2 and c1 into base in one pass and re-points
 * top at base, so every kind of step happens: a source accepting a new identity, the destination
 * taking it, several committed windows through the log, a re-point, two deletions.
 */
class MergeCrashIT {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private ChainFixture chain;
    private ContentModel sourcesView;

    private void buildChain(long seed) throws IOException {
        chain = ChainFixture.withRoot(
                        dir, "base.vhdx", DiskSpec.dynamic(160 * MIB).withBlockSize((int) MIB), seed)
                .write(10)
                .child("c1.avhdx")
                .write(30)
                .writeAt(130 * MIB, (int) (6 * MIB)) // data in the third 64 MiB window
                .child("c2.avhdx")
                .write(30)
                .writeAt(70 * MIB + 512, (int) (3 * MIB)); // and in the second
        sourcesView = chain.model().copy(); // what c2's chain reads, and base alone after the merge
        chain.child("top.avhdx").write(10);
    }

    private Path top() {
        return chain.top();
    }

    private Path newestSource() {
        return chain.file(2);
    }

    @ParameterizedTest(name = "crash at {0}")
    @ValueSource(
            strings = {
                "merge.journal-written",
                "vhdx.header.updated#1",
                "vhdx.header.updated#2",
                "vhdx.log.entry-written#1",
                "vhdx.commit.logged#1",
                "vhdx.commit.applying#1",
                "vhdx.commit.applied#1",
                "merge.linked",
                "vhdx.header.updated#4",
                "merge.identity-changed",
                "vhdx.commit.data-flushed#1",
                "vhdx.log.entry-written#2",
                "vhdx.commit.logged#2",
                "vhdx.commit.applying#2",
                "merge.window-committed#1",
                "vhdx.commit.logged#3",
                "vhdx.commit.applying#3",
                "merge.window-committed#2",
                "merge.window-committed#3",
                "merge.flushed",
                "merge.repointed",
                "merge.source-removed#1",
                "merge.source-removed#2"
            })
    void aMergeKilledAtAnyStepLeavesTheSameDataAndFinishesWhenRunAgain(String crashPoint) throws Exception {
        buildChain(crashPoint.hashCode());

        ChildJvm.Outcome crashed = ChildJvm.run(
                crashPoint, "merge", newestSource().toString(), chain.root().toString());
        assertThat(crashed.crashedAtPoint())
                .as("reached %s:%n%s", crashPoint, crashed.output())
                .isTrue();

        assertEveryVisibleChainReadsAsBefore();
        finishAndCheck();
    }

    @Test
    void aMergeKilledAtRandomInstantsAlwaysLeavesTheSameDataAndFinishes() throws Exception {
        Random random = new Random(42);
        buildChain(42);
        for (int kill = 0; kill < 6; kill++) {
            // Held to 24 MiB/s, the merge takes a few seconds: each kill lands somewhere inside it.
            Process merge = ChildJvm.start(
                    null, "merge", newestSource().toString(), chain.root().toString(), String.valueOf(24 * MIB));
            boolean finished = merge.waitFor(300 + random.nextInt(2500), TimeUnit.MILLISECONDS);
            if (finished) {
                assertThat(merge.exitValue())
                        .as(
                                "a merge that ended by itself:%n%s",
                                new String(merge.getInputStream().readAllBytes()))
                        .isZero();
                break;
            }
            merge.destroyForcibly().waitFor();
            assertEveryVisibleChainReadsAsBefore();
            if (!Files.exists(newestSource()) && !Files.exists(MergeJournal.pathFor(newestSource()))) {
                break; // it finished just as the kill came
            }
        }
        finishAndCheck();
    }

    /** Whatever step the merge died at, the disks a VM or a backup would open read as before. */
    private void assertEveryVisibleChainReadsAsBefore() throws IOException {
        chain.assertReads(top());
        if (Files.exists(newestSource())) {
            try (var levels = io.chainmerge.disk.chain.Chain.open(newestSource(), io.chainmerge.disk.Access.READ)) {
                sourcesView.assertChainEquals(levels.levels());
            }
        }
    }

    private void finishAndCheck() throws IOException {
        if (Files.exists(newestSource()) || Files.exists(MergeJournal.pathFor(newestSource()))) {
            Merge.run(MergeRequest.of(newestSource()).withDestination(chain.root()), MergeProgress.NONE);
        }

        assertThat(chain.file(1)).doesNotExist();

        assertThat(chain.file(2)).doesNotExist();
        assertThat(MergeJournal.pathFor(newestSource())).doesNotExist();
        chain.assertReads(top());
        try (var root = io.chainmerge.disk.chain.Chain.open(chain.root(), io.chainmerge.disk.Access.READ)) {
            sourcesView.assertChainEquals(root.levels());
        }
        if (Files.isExecutable(Path.of("/usr/bin/qemu-img"))) {
            Oracles.qemuCheckClean(chain.root(), "vhdx");
            sourcesView.assertRawEquals(Oracles.qemuToRaw(chain.root(), "vhdx", dir.resolve("merged.raw")));
        }
    }
}
