package io.chainmerge.disk.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.ChildJvm;
import io.chainmerge.disk.testing.EngineMain;
import io.chainmerge.disk.testing.Oracles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Two hosts on one volume whose POSIX locks do not reach each other (a {@code nolock} or {@code
 * local_lock=all} mount), played by two JVMs with POSIX locks switched off and host names of their own:
 * the claims beside the disks alone keep them apart. Of two merges of one chain started at once exactly
 * one runs; a holder killed mid-merge leaves its claim, which refuses the other host until it expires,
 * and then the other host finishes the merge from the journal. qemu-img reads the result.
 */
class ClaimIT {
    private static final long MIB = 1 << 20;
    private static final long RATE = 6 * MIB;

    @TempDir
    Path dir;

    private ChainFixture chain;
    private SlowMergeChain slow;

    @BeforeEach
    void requireQemu() {
        Oracles.requireQemu();
    }

    private void buildChain(String format, long childData) throws IOException {
        slow = SlowMergeChain.build(dir, format, childData, 71);
        chain = slow.chain();
    }

    /** A merge of the chain's top on {@code host}, whose POSIX locks the other host never sees. */
    private Process mergeOn(String host) throws IOException {
        return ChildJvm.startMain(
                EngineMain.class,
                null,
                List.of(
                        "-Dchainmerge.locks.posix=off",
                        "-Dchainmerge.claims.host=" + host,
                        "-Dchainmerge.claims.ttl=PT2S",
                        "-Dchainmerge.claims.grace=PT1S"),
                "merge",
                chain.top().toString(),
                "-",
                Long.toString(RATE));
    }

    private static ChildJvm.Outcome finish(Process process) throws Exception {
        return ChildJvm.finish(process, Duration.ofMinutes(2));
    }

    private void assertBaseReadsTheMergedChain() throws IOException {
        slow.assertBaseReadsTheMergedChain(dir);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vhdx", "vhd"})
    void ofTwoHostsMergingOneChainAtOnceExactlyOneRuns(String format) throws Exception {
        buildChain(format, 18 * MIB); // three seconds at the rate
        Process first = mergeOn("host-a");
        Process second = mergeOn("host-b");

        List<ChildJvm.Outcome> outcomes = List.of(finish(first), finish(second));

        assertThat(outcomes)
                .filteredOn(o -> o.exitStatus() == 0)
                .as(outcomes.toString())
                .hasSize(1);
        assertThat(outcomes)
                .filteredOn(o -> o.exitStatus() == EngineMain.REFUSED
                        && o.output().contains("in-use")
                        && o.output().contains("claimed by merge of"))
                .as(outcomes.toString())
                .hasSize(1);
        assertThat(chain.top()).doesNotExist();
        assertThat(claimsLeft()).isEmpty();
        assertBaseReadsTheMergedChain();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vhdx"})
    void aKilledHoldersClaimExpiresAndTheOtherHostFinishesTheMerge(String format) throws Exception {
        buildChain(format, 30 * MIB); // five seconds at the rate
        Path journal = MergeJournal.pathFor(chain.top());
        Process holder = mergeOn("host-a");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> Files.exists(journal) && !claimsLeft().isEmpty());
        holder.destroyForcibly().waitFor(); // SIGKILL mid-copy: its claims stay on the volume

        ChildJvm.Outcome tooSoon = finish(mergeOn("host-b"));
        assertThat(tooSoon.exitStatus()).as(tooSoon.output()).isEqualTo(EngineMain.REFUSED);
        assertThat(tooSoon.output()).contains("claimed by merge of", "on host host-a");

        List<ChildJvm.Outcome> attempts = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> {
                    ChildJvm.Outcome attempt = finish(mergeOn("host-b"));
                    attempts.add(attempt);
                    return attempt.exitStatus() == 0;
                });

        assertThat(chain.top()).doesNotExist();
        assertThat(journal).doesNotExist();
        assertThat(claimsLeft()).isEmpty();
        assertBaseReadsTheMergedChain();
    }

    private List<Path> claimsLeft() throws IOException {
        try (var files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".chainmerge-claim"))
                    .toList();
        }
    }
}
