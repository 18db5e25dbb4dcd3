package io.chainmerge.disk.vhd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.InvalidChainException;
import io.chainmerge.disk.ParentLink;
import io.chainmerge.disk.ParentPath;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.chain.Repoint;
import io.chainmerge.disk.chain.RepointReport;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.merge.Merge;
import io.chainmerge.disk.merge.MergeProgress;
import io.chainmerge.disk.merge.MergeRequest;
import io.chainmerge.disk.testing.ContentModel;
import io.chainmerge.disk.testing.Fingerprint;
import io.chainmerge.disk.testing.Oracles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Differencing VHDs: what a child records of its parent, re-pointing, and what a chain may hold. */
class VhdChainTest {
    private static final int MIB = 1 << 20;
    private static final long HEADER_AT = 0x200;

    @TempDir
    Path dir;

    @Test
    void childRecordsItsParentsIdentityTimeStampNameAndWindowsPaths() throws IOException {
        Path base = dir.resolve("vm").resolve("base.vhd");
        Files.createDirectories(base.getParent());
        Instant modified = Instant.parse("2024-03-01T10:20:30Z");
        try (VirtualDisk root = DiskFiles.create(base, DiskSpec.dynamic(40L * MIB))) {
            root.write(0, ByteBuffer.allocate(4096));
        }
        Files.setLastModifiedTime(base, FileTime.from(modified));
        Path child = base.resolveSibling("base_1.avhd");
        UUID parentId;
        try (VirtualDisk root = DiskFiles.open(base, Access.READ);
                VirtualDisk disk = DiskFiles.createDifferencing(child, root)) {
            parentId = root.identity();
            assertThat(disk.identity()).isNotEqualTo(parentId);
            assertThat(disk.virtualDiskId()).isEqualTo(disk.identity());
            assertThat(disk.blockSize()).isEqualTo(root.blockSize());
            ParentLink link = disk.parentLink().orElseThrow();
            assertThat(link.acceptedIdentities()).containsExactly(parentId);
            // W2ku: the absolute path as a rooted Windows path, which blktap opens as the POSIX path.
            String absolute = base.toRealPath().toString().replace('/', '\\');
            assertThat(link.paths())
                    .containsExactly(
                            new ParentPath(ParentPath.Kind.RELATIVE, ".\\base.vhd"),
                            new ParentPath(ParentPath.Kind.ABSOLUTE, absolute),
                            new ParentPath(ParentPath.Kind.RELATIVE, "base.vhd"));
            assertThat(disk.details())
                    .containsEntry("parentTimeStamp", modified.toString())
                    .containsEntry("parentUnicodeName", "base.vhd");
        }
        // Windows writes locator data in UTF-16LE and the name in UTF-16BE.
        byte[] raw = Files.readAllBytes(child);
        assertThat(indexOf(raw, ".\\base.vhd".getBytes(StandardCharsets.UTF_16LE)))
                .isPositive();
        assertThat(indexOf(raw, "base.vhd".getBytes(StandardCharsets.UTF_16BE))).isBetween(576, 1088);
        try (VirtualDisk disk = DiskFiles.open(child, Access.READ)) {
            assertThat(disk.parentLink().orElseThrow().recordedIdentity()).isEqualTo(parentId);
        }
    }

    @Test
    void libvhdiFindsTheIdentitiesAndNameTheEngineRecords() throws IOException {
        Oracles.requireLibvhdi();
        Path base = dir.resolve("base.vhd");
        Path child = dir.resolve("base_1.avhd");
        UUID baseId;
        UUID childId;
        try (VirtualDisk root = DiskFiles.create(base, DiskSpec.dynamic(8L * MIB));
                VirtualDisk disk = DiskFiles.createDifferencing(child, root)) {
            baseId = root.identity();
            childId = disk.identity();
        }
        String info = Oracles.vhdiInfo(child);
        assertThat(info)
                .contains("Differential")
                .contains("Identifier\t\t: " + childId)
                .contains("Parent identifier\t: " + baseId)
                .contains("Parent filename\t\t: base.vhd\n");
    }

    @Test
    void movedParentIsFoundAgainAfterSetParentAndTheChainStillReadsTheSame() throws IOException {
        Oracles.requireLibvhdi();
        Path base = dir.resolve("old").resolve("base.vhd");
        Files.createDirectories(base.getParent());
        ContentModel model = new ContentModel(20L * MIB);
        try (VirtualDisk root = DiskFiles.create(base, DiskSpec.dynamic(model.virtualSize()))) {
            model.writeBoth(root, 0, ContentModel.randomData(new Random(1), 6 * MIB));
        }
        Path child = dir.resolve("vm").resolve("base_1.avhd");
        Files.createDirectories(child.getParent());
        try (VirtualDisk root = DiskFiles.open(base, Access.READ);
                VirtualDisk disk = DiskFiles.createDifferencing(child, root)) {
            // Ends on a whole bitmap byte: libvhdi misreads clear bits that follow set bits in one byte.
            model.writeBoth(disk, 1536, ContentModel.randomData(new Random(2), 2 * MIB + 2560));
        }
        Path moved = dir.resolve("new").resolve("base.vhd");
        Files.createDirectories(moved.getParent());
        Files.move(base, moved);
        assertThatThrownBy(() -> Chain.open(child, Access.READ))
                .isInstanceOfSatisfying(
                        GuardRefusal.class, e -> assertThat(e.guard()).isEqualTo(GuardRefusal.Guard.MISSING_PARENT));

        long sizeBefore = Files.size(child);
        byte[] headBefore = head(child);
        try (VirtualDisk parent = DiskFiles.open(moved, Access.READ);
                VirtualDisk disk = DiskFiles.open(child, Access.WRITE)) {
            disk.setParent(parent);
            assertThat(disk.parentLink().orElseThrow().paths())
                    .first()
                    .isEqualTo(new ParentPath(ParentPath.Kind.RELATIVE, "..\\new\\base.vhd"));
        }
        // The new locator data went where the file grows; the old data is still where it was.
        assertThat(Files.size(child)).isEqualTo(sizeBefore + 512 + 512);
        byte[] headAfter = head(child);
        assertThat(headAfter).isNotEqualTo(headBefore);
        assertThat(indexOf(headAfter, "..\\old\\base.vhd".getBytes(StandardCharsets.UTF_16LE)))
                .isEqualTo(indexOf(headBefore, "..\\old\\base.vhd".getBytes(StandardCharsets.UTF_16LE)));
        try (Chain chain = Chain.open(child, Access.READ)) {
            assertThat(chain.root().path()).isEqualTo(moved.toRealPath());
            chain.top().verify();
            model.assertChainEquals(chain.levels());
        }
        model.assertRawEquals(Oracles.vhdiToRaw(dir.resolve("chain.raw"), child, moved));
    }

    @Test
    void setParentChangesNothingWhenEverythingRecordedMatches() throws IOException {
        Path base = dir.resolve("base.vhd");
        Path child = dir.resolve("base_1.avhd");
        try (VirtualDisk root = DiskFiles.create(base, DiskSpec.dynamic(8L * MIB));
                VirtualDisk disk = DiskFiles.createDifferencing(child, root)) {
            disk.write(0, ByteBuffer.allocate(512));
        }
        String before = VhdEdits.sha256(child);
        try (VirtualDisk root = DiskFiles.open(base, Access.READ);
                VirtualDisk disk = DiskFiles.open(child, Access.WRITE)) {
            disk.setParent(root);
        }
        assertThat(VhdEdits.sha256(child)).isEqualTo(before);
    }

    @Test
    void setParentRecordsTheNewParentsModificationTime() throws IOException {
        Path base = dir.resolve("base.vhd");
        Path child = dir.resolve("base_1.avhd");
        try (VirtualDisk root = DiskFiles.create(base, DiskSpec.dynamic(8L * MIB));
                VirtualDisk disk = DiskFiles.createDifferencing(child, root)) {
            disk.write(0, ByteBuffer.allocate(512));
        }
        Instant copied = Instant.parse("2025-01-02T03:04:05Z");
        Files.setLastModifiedTime(base, FileTime.from(copied));
        long sizeBefore = Files.size(child);
        try (VirtualDisk root = DiskFiles.open(base, Access.READ);
                VirtualDisk disk = DiskFiles.open(child, Access.WRITE)) {
            assertThat(disk.details().get("parentTimeStamp")).isNotEqualTo(copied.toString());
            disk.setParent(root);
            assertThat(disk.details()).containsEntry("parentTimeStamp", copied.toString());
        }
        // Only the header changed: the locators already named the parent.
        assertThat(Files.size(child)).isEqualTo(sizeBefore);
        try (VirtualDisk disk = DiskFiles.open(child, Access.READ)) {
            assertThat(disk.details()).containsEntry("parentTimeStamp", copied.toString());
        }
    }

    @Test
    void repointingToAMovedParentWhoseTimeChangedSaysSoAndAcceptsIt() throws IOException {
        Path base = dir.resolve("base.vhd");
        Path child = dir.resolve("base_1.avhd");
        DiskFiles.create(base, DiskSpec.dynamic(8L * MIB)).close();
        Files.setLastModifiedTime(base, FileTime.from(Instant.parse("2024-03-01T10:20:30Z")));
        try (VirtualDisk root = DiskFiles.open(base, Access.READ)) {
            DiskFiles.createDifferencing(child, root).close();
        }
        Path sameTime = Files.createDirectories(dir.resolve("kept")).resolve("base.vhd");
        Files.copy(base, sameTime, StandardCopyOption.COPY_ATTRIBUTES);
        Path newTime = Files.createDirectories(dir.resolve("copied")).resolve("base.vhd");
        Files.copy(base, newTime);
        Files.setLastModifiedTime(newTime, FileTime.from(Instant.parse("2025-06-07T08:09:10Z")));

        RepointReport kept = Repoint.setParent(child, sameTime);
        assertThat(kept.changed()).isTrue();
        assertThat(kept.notes()).isEmpty();

        RepointReport copied = Repoint.setParent(child, newTime);
        assertThat(copied.changed()).isTrue();
        assertThat(copied.notes())
                .singleElement()
                .asString()
                .contains("only the time stamp differs")
                .contains("2025-06-07T08:09:10Z")
                .contains("2024-03-01T10:20:30Z");
        try (Chain chain = Chain.open(child, Access.READ)) {
            assertThat(chain.root().path()).isEqualTo(newTime.toRealPath());
        }
        // The child now records the copy's time: nothing left to say.
        RepointReport again = Repoint.setParent(child, newTime);
        assertThat(again.changed()).isFalse();
        assertThat(again.notes()).isEmpty();
    }

    @Test
    void identityIsKeptThroughTheMergeStepsBecauseAChildRecordsOnlyOne() throws IOException {
        Path base = dir.resolve("base.vhd");
        Path child = dir.resolve("base_1.avhd");
        try (VirtualDisk root = DiskFiles.create(base, DiskSpec.dynamic(8L * MIB));
                VirtualDisk disk = DiskFiles.createDifferencing(child, root)) {
            disk.write(0, ByteBuffer.allocate(512));
        }
        String baseBefore = VhdEdits.sha256(base);
        String childBefore = VhdEdits.sha256(child);
        UUID future = UUID.randomUUID();
        try (VirtualDisk root = DiskFiles.open(base, Access.WRITE);
                VirtualDisk disk = DiskFiles.open(child, Access.WRITE)) {
            UUID identity = root.identity();
            disk.acceptParentIdentity(future);
            root.changeIdentity(future);
            root.adoptVirtualDiskId(disk.virtualDiskId());
            assertThat(root.identity()).isEqualTo(identity);
            assertThat(root.virtualDiskId()).isEqualTo(identity);
            assertThat(disk.parentLink().orElseThrow().accepts(root.identity())).isTrue();
        }
        assertThat(VhdEdits.sha256(base)).isEqualTo(baseBefore);
        assertThat(VhdEdits.sha256(child)).isEqualTo(childBefore);
        try (VirtualDisk disk = DiskFiles.open(child, Access.READ)) {
            assertThatThrownBy(() -> disk.acceptParentIdentity(future)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> disk.changeIdentity(future)).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void parentLocatorLoopIsRefused() throws IOException {
        Path base = dir.resolve("base.vhd");
        Path a = dir.resolve("a.avhd");
        Path b = dir.resolve("b.avhd");
        try (VirtualDisk root = DiskFiles.create(base, DiskSpec.dynamic(8L * MIB));
                VirtualDisk first = DiskFiles.createDifferencing(a, root);
                VirtualDisk second = DiskFiles.createDifferencing(b, first)) {
            first.setParent(second);
        }
        Map<Path, String> before = Fingerprint.ofTree(dir);
        for (Access access : List.of(Access.READ, Access.WRITE)) {
            assertThatThrownBy(() -> Chain.open(b, access))
                    .isInstanceOf(InvalidChainException.class)
                    .hasMessageContaining("parent-locator loop");
        }
        assertThatThrownBy(() -> Merge.run(MergeRequest.of(b), MergeProgress.NONE))
                .isInstanceOf(InvalidChainException.class);
        assertThat(Fingerprint.ofTree(dir)).isEqualTo(before);
    }

    @Test
    void vhdChildWhoseParentIsAVhdxFileIsAnInvalidChain() throws IOException {
        Path base = dir.resolve("base.vhd");
        Path child = dir.resolve("base_1.avhd");
        try (VirtualDisk root = DiskFiles.create(base, DiskSpec.dynamic(8L * MIB));
                VirtualDisk disk = DiskFiles.createDifferencing(child, root)) {
            disk.write(0, ByteBuffer.allocate(512));
            try (VirtualDisk other = DiskFiles.create(dir.resolve("other.vhdx"), DiskSpec.dynamic(8L * MIB))) {
                assertThatThrownBy(() -> disk.setParent(other)).isInstanceOf(InvalidChainException.class);
            }
        }
        // Put a VHDX file where the child's locator points, carrying the identity the child recorded.
        Path vhdx = dir.resolve("impostor.vhdx");
        UUID vhdxIdentity;
        try (VirtualDisk disk = DiskFiles.create(vhdx, DiskSpec.dynamic(8L * MIB))) {
            vhdxIdentity = disk.identity();
        }
        Files.move(vhdx, base, StandardCopyOption.REPLACE_EXISTING);
        VhdEdits.editHeader(child, HEADER_AT, raw -> raw.putLong(
                        DynamicDiskHeader.PARENT_UNIQUE_ID_AT, vhdxIdentity.getMostSignificantBits())
                .putLong(DynamicDiskHeader.PARENT_UNIQUE_ID_AT + 8, vhdxIdentity.getLeastSignificantBits()));
        assertThatThrownBy(() -> Chain.open(child, Access.READ))
                .isInstanceOf(InvalidChainException.class)
                .hasMessageContaining("VHD differencing disk cannot have the VHDX parent");
        assertThatThrownBy(() -> {
                    try (VirtualDisk parent = DiskFiles.open(base, Access.READ)) {
                        DiskFiles.createDifferencing(dir.resolve("new.avhd"), parent);
                    }
                })
                .isInstanceOf(InvalidChainException.class);
    }

    @Test
    void childOfAParentThatWasModifiedIsReportedOrphaned() throws IOException {
        Path base = dir.resolve("base.vhd");
        Path child = dir.resolve("base_1.avhd");
        try (VirtualDisk root = DiskFiles.create(base, DiskSpec.dynamic(8L * MIB));
                VirtualDisk disk = DiskFiles.createDifferencing(child, root)) {
            disk.write(0, ByteBuffer.allocate(512));
        }
        // Replace the parent by another disk of the same name: its unique id is not the one recorded.
        Files.delete(base);
        try (VirtualDisk other = DiskFiles.create(base, DiskSpec.dynamic(8L * MIB))) {
            other.write(0, ByteBuffer.allocate(512));
        }
        assertThatThrownBy(() -> Chain.open(child, Access.READ))
                .isInstanceOfSatisfying(
                        GuardRefusal.class, e -> assertThat(e.guard()).isEqualTo(GuardRefusal.Guard.ORPHANED));
    }

    private static byte[] head(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(64 * 1024);
            channel.read(head, 0);
            return head.array();
        }
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
