package io.chainmerge.cli;

import static io.chainmerge.cli.CliTest.chainmerge;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.ChildJvm;
import io.chainmerge.disk.testing.ProcLocks;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * While a merge runs in another process, every command that would change its chain is refused at once,
 * exit 3 {@code in-use}, naming the merge's process; none of them changes a byte, and the merge finishes.
 */
class ChainInUseIT {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vhdx", "vhd"})
    void everyCommandThatWouldChangeAChainBeingMergedIsRefusedNamingTheMerge(String format) throws Exception {
        assumeTrue(ProcLocks.available(), "no /proc/locks on this system");
        ChainFixture chain = ChainFixture.withRoot(
                        dir, "base." + format, DiskSpec.dynamic(48 * MIB).withBlockSize((int) (2 * MIB)), 9)
                .write(10)
                .child("base_1.a" + format)
                .writeAt(2 * MIB, (int) (24 * MIB)); // six seconds at the rate below
        Path top = chain.top();
        Path base = chain.root();
        Path junk = Files.write(dir.resolve("junk.bin"), new byte[64 * 1024]);
        Path elsewhere = Files.createDirectory(dir.resolve("elsewhere"));

        Process merge = ChildJvm.start(null, "merge", top.toString(), "-", Long.toString(4 * MIB));
        long pid = merge.pid();
        await().atMost(Duration.ofSeconds(30)).until(() -> ProcLocks.heldBy(pid)
                .keySet()
                .containsAll(List.of(ProcLocks.inode(top), ProcLocks.inode(base))));

        List<CliTest.Run> writes = List.of(
                chainmerge("write", top, "--offset", 0, "--input", junk),
                chainmerge("write", base, "--force", "--offset", 0, "--input", junk));
        List<CliTest.Run> changes = List.of(
                chainmerge("merge", top, "--json"),
                chainmerge("set-parent", top, "--parent", base, "--json"),
                chainmerge("transplant", top, "--to", elsewhere, "--json"));
        assertThat(merge.isAlive()).as("every command came while the merge ran").isTrue();

        for (CliTest.Run run : writes) {
            assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(3);
            assertThat(run.err()).contains("in use: locked by pid " + pid);
        }
        for (CliTest.Run run : changes) {
            assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(3);
            JsonNode refusal = run.json();
            assertThat(refusal.path("reason").asText()).isEqualTo("in-use");
            assertThat(refusal.path("message").asText()).contains("locked by pid " + pid);
            assertThat(refusal.path("figures").path("holderPid").asLong()).isEqualTo(pid);
        }
        String output = new String(merge.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(merge.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(merge.exitValue()).as(output).isZero();
        assertThat(top).doesNotExist();
        assertThat(elsewhere).isEmptyDirectory();
        chain.assertReads(base);
    }
}
