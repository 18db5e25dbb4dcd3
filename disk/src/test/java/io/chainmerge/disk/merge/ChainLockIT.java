package io.chainmerge.disk.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.ChildJvm;
import io.chainmerge.disk.testing.EngineMain;
import io.chainmerge.disk.testing.Oracles;
import io.chainmerge.disk.testing.ProcLocks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A merge holds its chain against every other writer for its whole run, as other processes see it: a
 * chainmerge writer and qemu-io started while a rate-limited merge runs in its own JVM are refused, a
 * second merge of the same chain started 0 to 1 s after the first is refused, the kernel's lock list
 * shows the merge's locks without a gap from the moment they appear until the child is deleted, and
 * the merged disk reads exactly what the chain read before (checked by qemu-img).
 */
class ChainLockIT {
    private static final long MIB = 1 << 20;
    private static final long RATE = 6 * MIB;

    @TempDir
    Path dir;

    private ChainFixture chain;
    private SlowMergeChain slow;

    @BeforeEach
    void requireLockList() {
        assumeTrue(ProcLocks.available(), "no /proc/locks on this system");
        Oracles.requireQemu();
    }

    /** base ← top, with {@code childData} bytes in top: the merge of top takes that over {@link #RATE}. */
    private void buildChain(String format, long childData) throws IOException {
        slow = SlowMergeChain.build(dir, format, childData, 33);
        chain = slow.chain();
    }

    private Process startMerge() throws IOException {
        return ChildJvm.start(null, "merge", chain.top().toString(), "-", Long.toString(RATE));
    }

    private static ChildJvm.Outcome finish(Process process) throws Exception {
        return ChildJvm.finish(process, Duration.ofMinutes(2));
    }

    private void assertBaseReadsTheMergedChain() {
        try {
            slow.assertBaseReadsTheMergedChain(dir);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vhdx", "vhd"})
    void everyWriterIsRefusedWhileAMergeRunsAndItsLocksNeverLapse(String format) throws Exception {
        buildChain(format, 30 * MIB); // five seconds at the rate
        Path top = chain.top();
        Path base = chain.root();
        Path journal = MergeJournal.pathFor(top);
        long topInode = ProcLocks.inode(top);
        long baseInode = ProcLocks.inode(base);
        Path junk = Files.write(dir.resolve("junk.bin"), new byte[64 * 1024]);

        Process merge = startMerge();
        List<String> lapses = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean sampling = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            boolean topSeen = false;
            boolean baseSeen = false;
            while (sampling.get() && merge.isAlive()) {
                Map<Long, String> held = ProcLocks.heldBy(merge.pid());
                // Read after the locks: a lock gone with its file still there is a lapse, never a race.
                boolean topThere = Files.exists(top);
                boolean journalThere = Files.exists(journal);
                topSeen |= held.containsKey(topInode);
                baseSeen |= held.containsKey(baseInode);
                if (topSeen && !"WRITE".equals(held.get(topInode)) && topThere) {
                    lapses.add("top unlocked while it exists: " + held);
                }
                if (baseSeen && !"WRITE".equals(held.get(baseInode)) && (topThere || journalThere)) {
                    lapses.add("base unlocked while the merge is unfinished: " + held);
                }
            }
        });
        sampler.start();
        await().atMost(Duration.ofSeconds(30))
                .until(() -> ProcLocks.heldBy(merge.pid()).keySet().containsAll(List.of(topInode, baseInode)));

        List<ChildJvm.Outcome> writers = new ArrayList<>();
        writers.add(ChildJvm.run(null, "write", top.toString(), "0", junk.toString()));
        writers.add(ChildJvm.run(null, "write", base.toString(), "0", junk.toString()));
        List<Oracles.Result> qemuWriters = new ArrayList<>();
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(800);
        while (System.nanoTime() < until) {
            qemuWriters.add(Oracles.run(
                    List.of(
                            "qemu-io",
                            "-f",
                            format.equals("vhdx") ? "vhdx" : "vpc",
                            "-c",
                            "write -P 0xee 0 64k",
                            base.toString()),
                    false));
        }
        assertThat(merge.isAlive())
                .as("the merge still runs after the last writer, so every writer came while it ran")
                .isTrue();

        ChildJvm.Outcome merged = finish(merge);
        sampling.set(false);
        sampler.join();
        assertThat(merged.exitStatus()).as(merged.output()).isZero();
        for (ChildJvm.Outcome writer : writers) {
            assertThat(writer.exitStatus()).as(writer.output()).isEqualTo(EngineMain.REFUSED);
            assertThat(writer.output()).contains("in-use", "locked by pid " + merge.pid());
        }
        assertThat(qemuWriters).hasSizeGreaterThan(2).allSatisfy(result -> {
            assertThat(result.exitCode()).as(result.output()).isNotZero();
            assertThat(result.output()).contains("lock");
        });
        assertThat(lapses).isEmpty();
        assertThat(top).doesNotExist();
        assertBaseReadsTheMergedChain();
    }

    @ParameterizedTest(name = "{0}, the second {1} ms after the first")
    @CsvSource({"vhdx, 0", "vhdx, 300", "vhdx, 1000", "vhd, 0", "vhd, 1000"})
    void ofTwoMergesOfOneChainStartedApartExactlyOneRuns(String format, long apartMillis) throws Exception {
        buildChain(format, 18 * MIB); // three seconds at the rate
        Process first = startMerge();
        Thread.sleep(apartMillis); // the scenario: a second operator, or a redelivered job, a moment later
        Process second = startMerge();

        List<ChildJvm.Outcome> outcomes = List.of(finish(first), finish(second));

        assertThat(outcomes)
                .filteredOn(o -> o.exitStatus() == 0)
                .as(outcomes.toString())
                .hasSize(1);
        assertThat(outcomes)
                .filteredOn(
                        o -> o.exitStatus() == EngineMain.REFUSED && o.output().contains("in-use"))
                .as(outcomes.toString())
                .hasSize(1);
        assertThat(chain.top()).doesNotExist();
        assertBaseReadsTheMergedChain();
    }
}
