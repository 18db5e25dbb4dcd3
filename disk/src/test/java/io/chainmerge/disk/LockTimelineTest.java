package io.chainmerge.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.chainmerge.disk.chain.Repoint;
import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.merge.Merge;
import io.chainmerge.disk.merge.MergeRequest;
import io.chainmerge.disk.merge.Reserve;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.ProcLocks;
import io.chainmerge.disk.transplant.LocalSource;
import io.chainmerge.disk.transplant.Transplant;
import io.chainmerge.disk.transplant.TransplantJournal;
import io.chainmerge.disk.transplant.TransplantRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every file an operation reads or writes is locked, in the kernel's eyes, at every destructive step it
 * takes: at each crash point it reaches (every journal state, window commit, log write, header update,
 * re-point and deletion), {@code /proc/locks} must list this process's lock on each of its files that
 * still exists, exclusive where the operation writes. A merge whose locks went after planning (a second
 * descriptor of a chain file opened and closed by a scan) fails here at its first step.
 */
class LockTimelineTest {
    private static final long MIB = 1 << 20;
    private static final long PID = ProcessHandle.current().pid();

    @TempDir
    Path dir;

    /** Each file of the operation: its inode (fixed before the operation starts) and the lock it needs. */
    private final Map<Path, Long> inodes = new LinkedHashMap<>();

    private final Map<Path, String> needed = new LinkedHashMap<>();
    private final List<String> reached = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();

    @BeforeEach
    void watchLocks() {
        assumeTrue(ProcLocks.available(), "no /proc/locks on this system");
        CrashPoints.observe(this::check);
    }

    @AfterEach
    void stopWatching() {
        CrashPoints.observe(null);
    }

    private void expect(Path file, String lock) {
        inodes.put(file, ProcLocks.inode(file));
        needed.put(file, lock);
    }

    /** At a crash point: every expected file still there (the same inode at its path) is locked as needed. */
    private void check(String point) {
        reached.add(point);
        Map<Long, String> held = ProcLocks.heldBy(PID);
        inodes.forEach((file, inode) -> {
            if (!Files.exists(file) || ProcLocks.inode(file) != inode) {
                return; // deleted (a merged source) or moved away: nothing left to guard
            }
            String lock = held.get(inode);
            boolean enough = lock != null && (lock.equals(needed.get(file)) || lock.equals("WRITE"));
            if (!enough) {
                violations.add("at %s: %s holds %s, needs %s".formatted(point, file, lock, needed.get(file)));
            }
        });
    }

    private void assertHeldThroughout(String... mustReach) {
        assertThat(violations).isEmpty();
        assertThat(reached).contains(mustReach);
        Map<Long, String> after = ProcLocks.heldBy(PID);
        assertThat(inodes.values()).noneMatch(after::containsKey);
    }

    private ChainFixture chain(String format, String... children) throws IOException {
        ChainFixture chain = ChainFixture.withRoot(
                        dir, "base." + format, DiskSpec.dynamic(48 * MIB).withBlockSize((int) (2 * MIB)), 21)
                .write(12);
        for (String child : children) {
            chain.child(child + ".a" + format).write(12);
        }
        return chain;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vhdx", "vhd"})
    void aMergeHoldsItsSourcesDestinationAndTheChildItRepointsToTheEnd(String format) throws IOException {
        ChainFixture chain = chain(format, "c1", "top");
        expect(chain.root(), "WRITE");
        expect(chain.file(1), "WRITE");
        expect(chain.top(), "WRITE");

        Merge.run(MergeRequest.of(chain.file(1)), (done, total) -> {});

        assertHeldThroughout(
                "merge.journal-written", "merge.window-committed", "merge.repointed", "merge.source-removed");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vhdx", "vhd"})
    void aMergeToADestinationHoldsEveryLevel(String format) throws IOException {
        ChainFixture chain = chain(format, "c1", "c2");
        expect(chain.root(), "WRITE");
        expect(chain.file(1), "WRITE");
        expect(chain.top(), "WRITE");

        Merge.run(MergeRequest.of(chain.top()).withDestination(chain.root()), (done, total) -> {});

        assertHeldThroughout("merge.flushed", "merge.source-removed");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vhdx", "vhd"})
    void aFlattenHoldsTheChainAndItsNewDisk(String format) throws IOException {
        ChainFixture chain = chain(format, "c1");
        expect(chain.root(), "READ");
        expect(chain.top(), "READ");
        Path flat = dir.resolve("flat." + format);
        // The new disk is there only from its first commit on: watch it by name once it is.
        CrashPoints.observe(point -> {
            Path partial = dir.resolve(".flat-partial." + format);
            if (!inodes.containsKey(partial) && Files.exists(partial)) {
                expect(partial, "WRITE");
            }
            check(point);
        });

        Merge.run(MergeRequest.of(chain.top()).withIntoNew(flat, DiskType.DYNAMIC), (done, total) -> {});

        assertThat(inodes).containsKey(dir.resolve(".flat-partial." + format));
        assertHeldThroughout("merge.flatten-written");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vhdx", "vhd"})
    void setParentHoldsTheChildForWritingAndTheParentForReading(String format) throws IOException {
        ChainFixture chain = chain(format, "c1");
        Path moved =
                Files.createDirectory(dir.resolve("moved")).resolve(chain.root().getFileName());
        Files.move(chain.root(), moved);
        expect(chain.top(), "WRITE");
        expect(moved, "READ");

        Repoint.setParent(chain.top(), moved);

        assertHeldThroughout(format.equals("vhdx") ? "vhdx.commit.logged" : "vhd.set-parent.locators-written");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vhdx", "vhd"})
    void aTransplantHoldsItsSourcesTheChildLeftBehindAndTheCopiesToTheLastRemoval(String format) throws IOException {
        ChainFixture chain = chain(format, "c1", "top");
        Path elsewhere = Files.createDirectory(dir.resolve("elsewhere"));
        Path source = chain.file(1);
        Path copy = elsewhere.resolve(source.getFileName());
        expect(source, "WRITE");
        expect(chain.top(), "WRITE");
        expect(chain.root(), "READ");
        CrashPoints.observe(point -> {
            if (!inodes.containsKey(copy) && Files.exists(copy)) {
                expect(copy, "WRITE");
            }
            check(point);
        });

        Transplant.run(
                new TransplantRequest(elsewhere, true, 0, Reserve.NONE, 0, 1),
                () -> LocalSource.open(List.of(source), elsewhere),
                LocalSource::removeSource,
                TransplantJournal.inMemory(),
                bytes -> {});

        assertThat(inodes).containsKey(copy);
        assertHeldThroughout(
                "transplant.copying", "transplant.copy-linked", "transplant.repointed", "transplant.source-removed");
    }
}
