package io.chainmerge.disk.transplant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.merge.Reserve;
import io.chainmerge.disk.merge.Throttle;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.ChildJvm;
import io.chainmerge.disk.testing.Fingerprint;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A transplant on one host: copies checked, children re-pointed, sources removed last; guards change nothing. */
class TransplantTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private Path vol1;
    private Path vol2;
    private ChainFixture chain;

    @BeforeEach
    void chain() throws IOException {
        vol1 = Files.createDirectories(dir.resolve("vol1/vm"));
        vol2 = dir.resolve("vol2/vm");
        chain = ChainFixture.withRoot(
                        vol1, "base.vhdx", DiskSpec.dynamic(16 * MIB).withBlockSize((int) MIB), 5)
                .write(6)
                .child("base_1.avhdx")
                .write(8)
                .child("base_2.avhdx")
                .write(4);
    }

    private TransplantRequest request(boolean move) {
        return new TransplantRequest(vol2, move, 0, Reserve.NONE, 0, 3);
    }

    private TransplantReport run(TransplantRequest request, List<Path> disks, TransplantJournal journal)
            throws IOException {
        return Transplant.run(
                request,
                () -> LocalSource.open(disks, request.targetFolder()),
                LocalSource::removeSource,
                journal,
                bytes -> {});
    }

    @Test
    void movingTheDiskAMergeGrowsRepointsItsChildAndRemovesTheSourceLast() throws IOException {
        String before = Fingerprint.of(chain.root());
        TransplantReport report = run(request(true), List.of(chain.root()), TransplantJournal.inMemory());

        Path moved = vol2.resolve("base.vhdx");
        assertThat(chain.root()).doesNotExist();
        assertThat(Fingerprint.of(moved)).isEqualTo(before);
        assertThat(report.repointed()).containsExactly(chain.file(1).toRealPath());
        assertThat(report.files().get(0).sha256()).isEqualTo(Transplant.sha256(moved, false));
        assertThat(report.bytesCopied()).isEqualTo(Files.size(moved));
        try (Chain opened = Chain.open(chain.top(), Access.READ)) {
            assertThat(opened.root().path()).isEqualTo(moved.toRealPath());
        }
        chain.assertReads(chain.top());
    }

    @Test
    void aWholeChainMovesTogetherAndItsCopiesLinkToEachOther() throws IOException {
        List<Path> disks = List.of(chain.file(2), chain.file(1), chain.root());
        TransplantReport report = run(request(true), disks, TransplantJournal.inMemory());

        assertThat(report.repointed()).isEmpty();
        assertThat(disks).allSatisfy(p -> assertThat(p).doesNotExist());
        Path top = vol2.resolve("base_2.avhdx");
        try (Chain opened = Chain.open(top, Access.READ)) {
            assertThat(opened.levels())
                    .extracting(VirtualDisk::path)
                    .allSatisfy(p -> assertThat(p.startsWith(vol2.toRealPath())).isTrue());
        }
        chain.assertReads(top);
    }

    @Test
    void aRunStoppedAfterLinkingFinishesFromItsFileJournalWithoutReopeningTheSources() throws IOException {
        Path journalFile = dir.resolve("journal/transplant");
        List<Path> disks = List.of(chain.file(1), chain.root());
        Path top = chain.top().toRealPath();
        IOException lost = new IOException("the sender went away");
        assertThatThrownBy(() -> Transplant.run(
                        request(true),
                        () -> LocalSource.open(disks, vol2),
                        file -> {
                            throw lost;
                        },
                        FileJournal.open(journalFile),
                        bytes -> {}))
                .isSameAs(lost);
        // Linked: the child that stayed reads through the copies while the sources are still there.
        assertThat(chain.root()).exists();
        chain.assertReads(top);

        FileJournal reopened = FileJournal.open(journalFile);
        assertThat(reopened.step()).isEqualTo(TransplantStep.LINKED);
        assertThat(reopened.repointed()).containsExactly(top);
        TransplantReport report = Transplant.run(
                request(true),
                () -> {
                    throw new AssertionError("a linked transplant does not open its sources again");
                },
                LocalSource::removeSource,
                reopened,
                bytes -> {});
        assertThat(report.resumed()).isTrue();
        assertThat(report.bytesCopied()).isZero();
        assertThat(disks).allSatisfy(p -> assertThat(p).doesNotExist());
        assertThat(FileJournal.open(journalFile).step()).isEqualTo(TransplantStep.DONE);
        chain.assertReads(top);
    }

    @Test
    void aCopyLeavesTheSourcesAndTheirChildrenAsTheyWere() throws IOException {
        Map<Path, String> before = Fingerprint.ofTree(vol1);
        run(request(false), List.of(chain.file(1), chain.root()), TransplantJournal.inMemory());

        assertThat(Fingerprint.ofTree(vol1)).isEqualTo(before);
        chain.assertReads(chain.top());
        try (Chain copy = Chain.open(vol2.resolve("base_1.avhdx"), Access.READ)) {
            assertThat(copy.root().path()).isEqualTo(vol2.resolve("base.vhdx").toRealPath());
        }
    }

    @Test
    void aDiskWhoseChainIsInUseIsNotMoved() throws Exception {
        Map<Path, String> before = Fingerprint.ofTree(dir);
        Process holder = ChildJvm.holdOpen(chain.top()); // a VM running on the chain holds its top
        try {
            assertThatThrownBy(() -> run(request(true), List.of(chain.root()), TransplantJournal.inMemory()))
                    .isInstanceOfSatisfying(
                            GuardRefusal.class, r -> assertThat(r.guard()).isEqualTo(Guard.IN_USE));
        } finally {
            holder.getOutputStream().close();
            holder.waitFor();
        }
        assertThat(Fingerprint.ofTree(dir)).isEqualTo(before);
    }

    @Test
    void disksThatAreNotOneRunOfAChainAreRefused() throws IOException {
        Map<Path, String> before = Fingerprint.ofTree(dir);
        assertThatThrownBy(() -> run(request(true), List.of(chain.file(2), chain.root()), TransplantJournal.inMemory()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not the parent of");
        assertThat(Fingerprint.ofTree(dir)).isEqualTo(before);
    }

    @Test
    void aFileInTheWayOnTheTargetIsRefused() throws IOException {
        Files.createDirectories(vol2);
        Files.writeString(vol2.resolve("base.vhdx"), "someone else's");
        Map<Path, String> before = Fingerprint.ofTree(dir);
        assertThatThrownBy(() -> run(request(true), List.of(chain.root()), TransplantJournal.inMemory()))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Fingerprint.ofTree(dir)).isEqualTo(before);
        assertThat(vol2.resolve("base.vhdx")).hasContent("someone else's");
    }

    @Test
    void aTargetWithoutRoomForTheFilesAndTheMergeIsRefusedWithFigures() throws IOException {
        Map<Path, String> before = Fingerprint.ofTree(dir);
        TransplantRequest tooMuch = new TransplantRequest(vol2, true, Long.MAX_VALUE / 4, Reserve.NONE, 0, 3);
        assertThatThrownBy(() -> run(tooMuch, List.of(chain.root()), TransplantJournal.inMemory()))
                .isInstanceOfSatisfying(GuardRefusal.class, r -> {
                    assertThat(r.guard()).isEqualTo(Guard.SPACE);
                    assertThat(r.figures()).containsKeys("requiredBytes", "availableBytes", "reserveBytes");
                });
        assertThat(Fingerprint.ofTree(dir)).isEqualTo(before);
    }

    @Test
    void aCopyThatArrivesDamagedIsFetchedAgainAndNeverLinkedWhenItStaysDamaged() throws IOException {
        AtomicInteger damaged = new AtomicInteger();
        Path source = chain.root().toRealPath();
        // One damaged arrival: the second attempt is intact and the move completes.
        TransplantReport report = runDamaging(request(true), List.of(chain.root()), 1, damaged);
        assertThat(damaged).hasValue(1);
        assertThat(report.removed()).containsExactly(source);
        chain.assertReads(chain.top());

        // Every arrival damaged: typed failure, nothing linked, the source where it was.
        Path vol3 = dir.resolve("vol3");
        Map<Path, String> before = Fingerprint.ofTree(vol1);
        Path movedRoot = vol2.resolve("base.vhdx");
        TransplantRequest again = new TransplantRequest(vol3, true, 0, Reserve.NONE, 0, 2);
        assertThatThrownBy(() -> runDamaging(again, List.of(movedRoot), Integer.MAX_VALUE, new AtomicInteger()))
                .isInstanceOf(TransferException.class)
                .hasMessageContaining("no intact copy arrived in 2 attempts");
        assertThat(Fingerprint.ofTree(vol1)).isEqualTo(before);
        assertThat(movedRoot).exists();
        assertThat(vol3.resolve("base.vhdx")).doesNotExist();
        assertThat(vol3.resolve("base.vhdx.partial")).doesNotExist();
        chain.assertReads(chain.top());
    }

    /** A local source whose first {@code times} copies get one byte flipped after the source hashed them. */
    private TransplantReport runDamaging(TransplantRequest request, List<Path> disks, int times, AtomicInteger damaged)
            throws IOException {
        return Transplant.run(
                request,
                () -> new DamagingSource(LocalSource.open(disks, request.targetFolder()), times, damaged),
                LocalSource::removeSource,
                TransplantJournal.inMemory(),
                bytes -> {});
    }

    private record DamagingSource(LocalSource local, int times, AtomicInteger damaged) implements TransplantSource {
        @Override
        public List<TransplantFile> files() {
            return local.files();
        }

        @Override
        public Path parentOfOldest() {
            return local.parentOfOldest();
        }

        @Override
        public Map<Path, Path> childrenLeftBehind() {
            return local.childrenLeftBehind();
        }

        @Override
        public String copy(TransplantFile file, Path partial, Throttle throttle, CopyProgress progress)
                throws IOException {
            String digest = local.copy(file, partial, throttle, progress);
            if (damaged.get() < times) {
                damaged.incrementAndGet();
                try (RandomAccessFile raw = new RandomAccessFile(partial.toFile(), "rw")) {
                    raw.seek(raw.length() / 2);
                    int b = raw.read();
                    raw.seek(raw.length() / 2);
                    raw.write(b ^ 0x01);
                }
            }
            return digest;
        }

        @Override
        public void remove(TransplantFile file) throws IOException {
            local.remove(file);
        }

        @Override
        public void close() throws IOException {
            local.close();
        }
    }
}
