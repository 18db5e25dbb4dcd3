package io.chainmerge.disk.merge;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.ChildJvm;
import io.chainmerge.disk.testing.Fingerprint;
import io.chainmerge.disk.testing.Oracles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Flattening into a new disk, killed at a named step or a random instant: the sources are never
 * touched, the new file either does not exist or is complete (never half-written under its final
 * name), and running the flatten again makes it.
 */
class FlattenCrashIT {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private ChainFixture chain;
    private Map<Path, String> sourcesBefore;

    private Path flat() {
        return dir.resolve("flat.vhdx");
    }

    private void buildChain(long seed) throws IOException {
        chain = ChainFixture.withRoot(
                        dir, "base.vhdx", DiskSpec.dynamic(160 * MIB).withBlockSize((int) MIB), seed)
                .write(10)
                .child("c1.avhdx")
                .write(20)
                .writeAt(130 * MIB, (int) (6 * MIB)) // data in the third 64 MiB window
                .child("c2.avhdx")
                .write(20);
        sourcesBefore = Fingerprint.ofTree(dir);
    }

    @ParameterizedTest(name = "crash at {0}")
    @ValueSource(strings = {"merge.window-committed#1", "merge.window-committed#3", "merge.flatten-written"})
    void aFlattenKilledAtAnyStepLeavesTheSourcesAndNoHalfFileAndFinishesWhenRunAgain(String crashPoint)
            throws Exception {
        buildChain(crashPoint.hashCode());

        ChildJvm.Outcome crashed =
                ChildJvm.run(crashPoint, "flatten", chain.top().toString(), flat().toString());
        assertThat(crashed.crashedAtPoint())
                .as("reached %s:%n%s", crashPoint, crashed.output())
                .isTrue();

        assertSourcesUntouchedAndNoHalfFile();
        finishAndCheck();
    }

    @Test
    void aFlattenKilledAtRandomInstantsLeavesTheSourcesAndNoHalfFile() throws Exception {
        Random random = new Random(7);
        buildChain(7);
        for (int kill = 0; kill < 5 && !Files.exists(flat()); kill++) {
            Process flatten = ChildJvm.start(
                    null, "flatten", chain.top().toString(), flat().toString(), String.valueOf(24 * MIB));
            if (!flatten.waitFor(300 + random.nextInt(2500), TimeUnit.MILLISECONDS)) {
                flatten.destroyForcibly().waitFor();
            }
            assertSourcesUntouchedAndNoHalfFile();
        }
        finishAndCheck();
    }

    private void assertSourcesUntouchedAndNoHalfFile() throws IOException {
        assertThat(Fingerprint.ofTree(dir)).containsAllEntriesOf(sourcesBefore);
        chain.assertReads(chain.top());
        if (Files.exists(flat())) {
            try (Chain flattened = Chain.open(flat(), Access.READ)) {
                chain.model().assertChainEquals(flattened.levels());
            }
        }
    }

    private void finishAndCheck() throws IOException {
        if (!Files.exists(flat())) {
            Merge.run(
                    MergeRequest.of(chain.top()).withIntoNew(flat(), io.chainmerge.disk.DiskType.DYNAMIC),
                    MergeProgress.NONE);
        }
        assertThat(Fingerprint.ofTree(dir)).containsAllEntriesOf(sourcesBefore);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(name -> name.contains("-partial"));
        }
        Oracles.qemuCheckClean(flat(), "vhdx");
        chain.model().assertRawEquals(Oracles.qemuToRaw(flat(), "vhdx", dir.resolve("flat.raw")));
    }
}
