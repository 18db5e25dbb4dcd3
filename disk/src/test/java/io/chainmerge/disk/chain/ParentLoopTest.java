package io.chainmerge.disk.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.InvalidChainException;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.merge.Merge;
import io.chainmerge.disk.merge.MergeProgress;
import io.chainmerge.disk.merge.MergeRequest;
import io.chainmerge.disk.scan.ScanReport;
import io.chainmerge.disk.scan.ScannedDisk;
import io.chainmerge.disk.scan.VolumeScan;
import io.chainmerge.disk.testing.Fingerprint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parent locators that lead round in a circle, as a hand-edited or damaged file can: every way into
 * the chain refuses with an {@link InvalidChainException}, a scan still ends, and no file changes.
 * The links are made with the engine's own {@code setParent}, bypassing the loop check of {@link
 * Repoint}, so each one also carries an identity its parent accepts.
 */
class ParentLoopTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void twoDisksThatAreEachOthersParentAreRefusedUntouched() throws IOException {
        Path base = root();
        Path b = child(base, "b.avhdx");
        Path a = child(b, "a.avhdx");
        try (VirtualDisk bDisk = DiskFiles.open(b, Access.WRITE);
                VirtualDisk aDisk = DiskFiles.open(a, Access.READ)) {
            bDisk.setParent(aDisk); // now a -> b -> a
        }
        assertLoopRefused(a);
        assertLoopRefused(b);
        assertScanEnds(a, b);
    }

    @Test
    void aDiskThatIsItsOwnParentIsRefusedUntouched() throws IOException {
        Path base = root();
        Path b = child(base, "b.avhdx");
        Path twin = Files.copy(b, dir.resolve("twin.avhdx")); // the same DataWriteGuid as b
        try (VirtualDisk bDisk = DiskFiles.open(b, Access.WRITE);
                VirtualDisk twinDisk = DiskFiles.open(twin, Access.READ)) {
            bDisk.setParent(twinDisk);
        }
        Files.delete(twin);
        Files.move(b, twin); // b's locator names twin.avhdx: itself
        assertLoopRefused(twin);
        assertScanEnds(twin);
    }

    private void assertLoopRefused(Path top) throws IOException {
        Map<Path, String> before = Fingerprint.ofTree(dir);
        for (Access access : Access.values()) {
            assertThatThrownBy(() -> Chain.open(top, access).close())
                    .as("opening the chain of %s for %s", top.getFileName(), access)
                    .isInstanceOf(InvalidChainException.class)
                    .hasMessageContaining("loop");
        }
        assertThatThrownBy(() -> Merge.plan(MergeRequest.of(top))).isInstanceOf(InvalidChainException.class);
        assertThatThrownBy(() -> Merge.run(MergeRequest.of(top), MergeProgress.NONE))
                .isInstanceOf(InvalidChainException.class);
        assertThat(Fingerprint.ofTree(dir)).as("files after the refusals").isEqualTo(before);
    }

    /** A scan links what it can and ends; no disk of a loop has a root. */
    private void assertScanEnds(Path... looped) throws IOException {
        ScanReport scan = VolumeScan.scan(List.of(dir));
        for (Path file : looped) {
            ScannedDisk disk = scan.find(file.toRealPath());
            assertThat(disk).as("%s in the scan", file.getFileName()).isNotNull();
            assertThat(disk.root()).as("the root of %s", file.getFileName()).isNull();
        }
    }

    private Path root() throws IOException {
        Path base = dir.resolve("base.vhdx");
        try (VirtualDisk disk = DiskFiles.create(base, DiskSpec.dynamic(8 * MIB).withBlockSize((int) MIB))) {
            disk.write(0, ByteBuffer.allocate(4096));
        }
        return base;
    }

    private Path child(Path parent, String name) throws IOException {
        Path child = dir.resolve(name);
        try (VirtualDisk parentDisk = DiskFiles.open(parent, Access.READ);
                VirtualDisk disk = DiskFiles.createDifferencing(child, parentDisk)) {
            disk.write(MIB, ByteBuffer.allocate(4096));
        }
        return child;
    }
}
