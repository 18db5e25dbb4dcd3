package io.chainmerge.disk.vhd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.DiskException;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.Extent;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.UnsupportedDiskException;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.testing.ContentModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Damaged and inconsistent VHD files: each is refused with a typed error that names the file, the
 * offset and the field, whether opened for reading or for writing, and not one byte of it changes.
 */
class VhdCorruptInputTest {
    private static final int MIB = 1 << 20;
    /** The layout of the files the engine makes: footer copy, dynamic disk header, BAT. */
    private static final long HEADER_AT = 0x200;

    private static final long TABLE_AT = 0x600;
    private static final long SIZE = 16L * MIB;

    @TempDir
    Path dir;

    enum Fixture {
        FIXED,
        DYNAMIC,
        DIFFERENCING
    }

    @FunctionalInterface
    interface Edit {
        /** Damages {@code file}; returns the offset the error must name. */
        long apply(Path file) throws IOException;
    }

    record Case(String name, Fixture fixture, Edit edit, Class<? extends DiskException> error, String field) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> cases() {
        List<Case> cases = new ArrayList<>();
        // A fixed disk has one footer: any damaged byte of it is fatal.
        int[] footerFields = {8, 12, 16, 24, 28, 32, 36, 40, 48, 56, 60, 64, 68, 84, 300};
        for (int field : footerFields) {
            cases.add(new Case(
                    "fixed footer byte " + field + " flipped",
                    Fixture.FIXED,
                    file -> flip(file, SIZE + field) - field + VhdFooter.CHECKSUM_AT,
                    CorruptDiskException.class,
                    "footer Checksum"));
        }
        cases.add(new Case(
                "fixed footer cookie",
                Fixture.FIXED,
                file -> flip(file, SIZE),
                CorruptDiskException.class,
                "footer Cookie"));
        cases.add(new Case(
                "fixed disk shorter than its Current Size",
                Fixture.FIXED,
                file -> footer(file, SIZE, raw -> raw.putLong(VhdFooter.CURRENT_SIZE_AT, SIZE + 512))
                        + VhdFooter.CURRENT_SIZE_AT,
                CorruptDiskException.class,
                "footer Current Size"));
        cases.add(new Case(
                "Current Size not a sector multiple",
                Fixture.FIXED,
                file -> footer(file, SIZE, raw -> raw.putLong(VhdFooter.CURRENT_SIZE_AT, SIZE - 1))
                        + VhdFooter.CURRENT_SIZE_AT,
                CorruptDiskException.class,
                "footer Current Size"));
        cases.add(new Case(
                "absurd Current Size",
                Fixture.DYNAMIC,
                file -> bothFooters(file, raw -> raw.putLong(VhdFooter.CURRENT_SIZE_AT, 1L << 60))
                        + VhdFooter.CURRENT_SIZE_AT,
                CorruptDiskException.class,
                "footer Current Size"));
        cases.add(new Case(
                "unknown disk type",
                Fixture.FIXED,
                file -> footer(file, SIZE, raw -> raw.putInt(VhdFooter.DISK_TYPE_AT, 9)) + VhdFooter.DISK_TYPE_AT,
                CorruptDiskException.class,
                "footer Disk Type"));
        cases.add(new Case(
                "deprecated disk type",
                Fixture.FIXED,
                file -> footer(file, SIZE, raw -> raw.putInt(VhdFooter.DISK_TYPE_AT, 5)),
                UnsupportedDiskException.class,
                null));
        cases.add(new Case(
                "file format version 2.0",
                Fixture.DYNAMIC,
                file -> bothFooters(file, raw -> raw.putInt(VhdFooter.FORMAT_VERSION_AT, 0x0002_0000)),
                UnsupportedDiskException.class,
                null));
        cases.add(new Case(
                "file shorter than a footer",
                Fixture.DYNAMIC,
                file -> truncate(file, 100) * 0,
                CorruptDiskException.class,
                "footer"));
        cases.add(new Case(
                "both footers damaged",
                Fixture.DYNAMIC,
                file -> {
                    flip(file, 70);
                    return flip(file, Files.size(file) - 512 + 70) - 70 + VhdFooter.CHECKSUM_AT;
                },
                CorruptDiskException.class,
                "footer Checksum"));
        cases.add(new Case(
                "footer copy disagrees with the footer",
                Fixture.DYNAMIC,
                file -> footer(file, 0, raw -> raw.putLong(VhdFooter.UNIQUE_ID_AT, 42)),
                CorruptDiskException.class,
                "footer copy"));
        cases.add(new Case(
                "Data Offset all ones",
                Fixture.DYNAMIC,
                file -> bothFooters(file, raw -> raw.putLong(VhdFooter.DATA_OFFSET_AT, -1)) + VhdFooter.DATA_OFFSET_AT,
                CorruptDiskException.class,
                "footer Data Offset"));
        cases.add(new Case(
                "Data Offset past the end",
                Fixture.DYNAMIC,
                file -> bothFooters(file, raw -> raw.putLong(VhdFooter.DATA_OFFSET_AT, 1L << 40))
                        + VhdFooter.DATA_OFFSET_AT,
                CorruptDiskException.class,
                "footer Data Offset"));
        cases.add(new Case(
                "dynamic disk header cookie",
                Fixture.DYNAMIC,
                file -> flip(file, HEADER_AT + 3) - 3,
                CorruptDiskException.class,
                "dynamic disk header Cookie"));
        cases.add(new Case(
                "dynamic disk header byte flipped",
                Fixture.DYNAMIC,
                file -> flip(file, HEADER_AT + 900) - 900 + DynamicDiskHeader.CHECKSUM_AT,
                CorruptDiskException.class,
                "dynamic disk header Checksum"));
        cases.add(new Case(
                "header version 2.0",
                Fixture.DYNAMIC,
                file -> header(file, raw -> raw.putInt(DynamicDiskHeader.HEADER_VERSION_AT, 0x0002_0000)),
                UnsupportedDiskException.class,
                null));
        cases.add(new Case(
                "Block Size 0",
                Fixture.DYNAMIC,
                file -> header(file, raw -> raw.putInt(DynamicDiskHeader.BLOCK_SIZE_AT, 0))
                        + DynamicDiskHeader.BLOCK_SIZE_AT,
                CorruptDiskException.class,
                "dynamic disk header Block Size"));
        cases.add(new Case(
                "Block Size not a power of two",
                Fixture.DYNAMIC,
                file -> header(file, raw -> raw.putInt(DynamicDiskHeader.BLOCK_SIZE_AT, 3 * MIB))
                        + DynamicDiskHeader.BLOCK_SIZE_AT,
                CorruptDiskException.class,
                "dynamic disk header Block Size"));
        cases.add(new Case(
                "Block Size 1 GiB",
                Fixture.DYNAMIC,
                file -> header(file, raw -> raw.putInt(DynamicDiskHeader.BLOCK_SIZE_AT, 1 << 30)),
                UnsupportedDiskException.class,
                null));
        cases.add(new Case(
                "Max Table Entries too few",
                Fixture.DYNAMIC,
                file -> header(file, raw -> raw.putInt(DynamicDiskHeader.MAX_TABLE_ENTRIES_AT, 7))
                        + DynamicDiskHeader.MAX_TABLE_ENTRIES_AT,
                CorruptDiskException.class,
                "dynamic disk header Max Table Entries"));
        cases.add(new Case(
                "Max Table Entries absurd",
                Fixture.DYNAMIC,
                file -> header(file, raw -> raw.putInt(DynamicDiskHeader.MAX_TABLE_ENTRIES_AT, -1))
                        + DynamicDiskHeader.MAX_TABLE_ENTRIES_AT,
                CorruptDiskException.class,
                "dynamic disk header Max Table Entries"));
        cases.add(new Case(
                "Max Table Entries past the end of the file",
                Fixture.DYNAMIC,
                file -> header(file, raw -> raw.putInt(DynamicDiskHeader.MAX_TABLE_ENTRIES_AT, 1 << 22))
                        + DynamicDiskHeader.TABLE_OFFSET_AT,
                CorruptDiskException.class,
                "dynamic disk header Table Offset"));
        for (long tableOffset : new long[] {0, 1L << 62, -1, SIZE}) {
            cases.add(new Case(
                    "Table Offset " + Long.toUnsignedString(tableOffset),
                    Fixture.DYNAMIC,
                    file -> header(file, raw -> raw.putLong(DynamicDiskHeader.TABLE_OFFSET_AT, tableOffset))
                            + DynamicDiskHeader.TABLE_OFFSET_AT,
                    CorruptDiskException.class,
                    "dynamic disk header Table Offset"));
        }
        cases.add(new Case(
                "BAT overlapping the header",
                Fixture.DYNAMIC,
                file -> header(file, raw -> raw.putLong(DynamicDiskHeader.TABLE_OFFSET_AT, 1024))
                        + DynamicDiskHeader.TABLE_OFFSET_AT,
                CorruptDiskException.class,
                "BAT"));
        cases.add(new Case(
                "BAT entry past the end of the file",
                Fixture.DYNAMIC,
                file -> batEntry(file, 1, (int) (Files.size(file) / 512)),
                CorruptDiskException.class,
                "BAT entry 1"));
        cases.add(new Case(
                "BAT entry pointing at the dynamic disk header",
                Fixture.DYNAMIC,
                file -> batEntry(file, 2, 1),
                CorruptDiskException.class,
                "BAT entry 2"));
        cases.add(new Case(
                "two BAT entries pointing at one block",
                Fixture.DYNAMIC,
                file -> batEntry(file, 5, readBatEntry(file, 0)),
                CorruptDiskException.class,
                "BAT entry"));
        cases.add(new Case(
                "parent locator data offset past the end",
                Fixture.DIFFERENCING,
                file -> locator(file, 0, entry -> entry.putLong(16, 1L << 50)),
                CorruptDiskException.class,
                "parent locator entry 1 (W2ru) Platform Data Offset"));
        cases.add(new Case(
                "parent locator data length absurd",
                Fixture.DIFFERENCING,
                file -> locator(file, 1, entry -> entry.putInt(8, 1 << 30)),
                CorruptDiskException.class,
                "parent locator entry 2 (W2ku) Platform Data Length"));
        cases.add(new Case(
                "parent locator data over the BAT",
                Fixture.DIFFERENCING,
                file -> locator(file, 0, entry -> entry.putLong(16, TABLE_AT)),
                CorruptDiskException.class,
                "parent locator W2ru data"));
        cases.add(new Case(
                "differencing disk with no parent unique id",
                Fixture.DIFFERENCING,
                file -> header(file, raw -> raw.put(DynamicDiskHeader.PARENT_UNIQUE_ID_AT, new byte[16])),
                UnsupportedDiskException.class,
                null));
        return cases.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void damagedFileIsRefusedAndLeftUnchanged(Case damage) throws IOException {
        Path file = fixture(damage.fixture());
        long offset = damage.edit().apply(file);
        String before = VhdEdits.sha256(file);
        for (Access access : Access.values()) {
            assertThatThrownBy(() -> use(file, access))
                    .as("%s opened for %s", damage, access)
                    .isInstanceOf(damage.error())
                    .satisfies(e -> assertThat(((DiskException) e).file()).isEqualTo(file.toRealPath()))
                    .satisfies(e -> {
                        if (damage.field() != null) {
                            CorruptDiskException corrupt = (CorruptDiskException) e;
                            assertThat(corrupt.field()).startsWith(damage.field());
                            assertThat(corrupt.offset()).isEqualTo(offset);
                        }
                    });
            assertThat(VhdEdits.sha256(file)).as("bytes after %s", access).isEqualTo(before);
        }
    }

    @Test
    void damagedFooterAtTheEndIsReadFromTheCopyButNotWritten() throws IOException {
        Path file = fixture(Fixture.DYNAMIC);
        ContentModel model = new ContentModel(SIZE);
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            readInto(disk, model);
        }
        long footerAt = Files.size(file) - 512;
        flip(file, footerAt + 20);
        String before = VhdEdits.sha256(file);
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            disk.verify();
            model.assertChainEquals(List.of(disk));
            assertThat(disk.details()).containsEntry("footerOffset", 0L);
            assertThat(disk.details().get("footerNotes").toString())
                    .contains("read from the copy at offset 0")
                    .contains("footer Checksum");
        }
        assertThatThrownBy(() -> DiskFiles.open(file, Access.WRITE))
                .isInstanceOfSatisfying(CorruptDiskException.class, e -> {
                    assertThat(e.offset()).isEqualTo(footerAt);
                    assertThat(e.getMessage()).contains("its copy at offset 0 is intact");
                });
        assertThat(VhdEdits.sha256(file)).isEqualTo(before);
    }

    @Test
    void truncatedDynamicDiskIsRefusedAndLeftUnchanged() throws IOException {
        Path file = fixture(Fixture.DYNAMIC);
        long footerAt = truncate(file, Files.size(file) - 4096) - 512;
        String before = VhdEdits.sha256(file);
        // The footer at the end is gone: reading falls back to the copy, and finds the last block cut short.
        assertThatThrownBy(() -> use(file, Access.READ)).isInstanceOfSatisfying(CorruptDiskException.class, e -> {
            assertThat(e.field()).isEqualTo("BAT entry 7");
            assertThat(e.offset()).isEqualTo(TABLE_AT + 7 * 4);
            assertThat(e.getMessage()).contains("the file is truncated");
        });
        assertThatThrownBy(() -> use(file, Access.WRITE)).isInstanceOfSatisfying(CorruptDiskException.class, e -> {
            assertThat(e.field()).isEqualTo("footer");
            assertThat(e.offset()).isEqualTo(footerAt);
        });
        assertThat(VhdEdits.sha256(file)).isEqualTo(before);
    }

    @Test
    void damagedFooterCopyIsReportedAndTheFooterAtTheEndUsed() throws IOException {
        Path file = fixture(Fixture.DYNAMIC);
        flip(file, 30);
        try (VirtualDisk disk = DiskFiles.open(file, Access.WRITE)) {
            assertThat(disk.details()).containsEntry("footerOffset", Files.size(file) - 512);
            assertThat(disk.details().get("footerNotes").toString()).contains("footer copy at offset 0 is damaged");
            disk.write(3 * MIB, ByteBuffer.allocate(4096));
        }
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            disk.verify();
        }
    }

    @Test
    void footerOf511BytesAsVirtualPcWroteBefore2004IsReadButNotWritten() throws IOException {
        Path file = fixture(Fixture.FIXED);
        ContentModel model = new ContentModel(SIZE);
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            readInto(disk, model);
        }
        // Its last byte is reserved and zero, so the checksum of the first 511 is the footer's.
        truncate(file, Files.size(file) - 1);
        String before = VhdEdits.sha256(file);
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            assertThat(disk.details()).containsEntry("footerOffset", SIZE);
            assertThat(disk.details().get("footerNotes").toString()).contains("511-byte footer");
            disk.verify();
            model.assertChainEquals(List.of(disk));
        }
        assertThatThrownBy(() -> DiskFiles.open(file, Access.WRITE))
                .isInstanceOf(UnsupportedDiskException.class)
                .hasMessageContaining("511-byte footer");
        assertThat(VhdEdits.sha256(file)).isEqualTo(before);
    }

    @Test
    void diskInASavedStateIsReadButNotWritten() throws IOException {
        Path file = fixture(Fixture.DYNAMIC);
        bothFooters(file, raw -> raw.put(VhdFooter.SAVED_STATE_AT, (byte) 1));
        String before = VhdEdits.sha256(file);
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            assertThat(disk.details()).containsEntry("savedState", true);
        }
        assertThatThrownBy(() -> DiskFiles.open(file, Access.WRITE))
                .isInstanceOfSatisfying(
                        GuardRefusal.class, e -> assertThat(e.guard()).isEqualTo(GuardRefusal.Guard.IN_USE));
        assertThat(VhdEdits.sha256(file)).isEqualTo(before);
    }

    /** Opens the file, checks it, reads every byte it stores and, for writing, writes a sector. */
    private static void use(Path file, Access access) throws IOException {
        try (VirtualDisk disk = DiskFiles.open(file, access)) {
            disk.verify();
            readInto(disk, new ContentModel(disk.virtualSize()));
            if (access == Access.WRITE) {
                disk.write(disk.virtualSize() - 512, ByteBuffer.allocate(512));
                disk.commit();
            }
        }
    }

    private static void readInto(VirtualDisk disk, ContentModel model) throws IOException {
        List<Extent> extents = new ArrayList<>();
        disk.extents(0, disk.virtualSize(), extents);
        for (Extent extent : extents) {
            ByteBuffer data = ByteBuffer.allocate((int) extent.length());
            disk.readStored(extent.fileOffset(), data);
            model.write(extent.offset(), data.array());
        }
    }

    private Path fixture(Fixture kind) throws IOException {
        Path root = dir.resolve(kind == Fixture.FIXED ? "fixed.vhd" : "base.vhd");
        DiskSpec spec = DiskSpec.dynamic(SIZE).withType(kind == Fixture.FIXED ? DiskType.FIXED : DiskType.DYNAMIC);
        try (VirtualDisk disk = DiskFiles.create(root, spec)) {
            writeSome(disk, new Random(1));
        }
        if (kind != Fixture.DIFFERENCING) {
            return root;
        }
        Path child = dir.resolve("base_1.avhd");
        try (VirtualDisk parent = DiskFiles.open(root, Access.READ);
                VirtualDisk disk = DiskFiles.createDifferencing(child, parent)) {
            writeSome(disk, new Random(2));
        }
        return child;
    }

    /** Data in the first block, a partial run in the middle and the last sector. */
    private static void writeSome(VirtualDisk disk, Random random) throws IOException {
        disk.write(0, ByteBuffer.wrap(ContentModel.randomData(random, 64 * 1024)));
        disk.write(5 * MIB + 1536, ByteBuffer.wrap(ContentModel.randomData(random, 3584)));
        disk.write(SIZE - 512, ByteBuffer.wrap(ContentModel.randomData(random, 512)));
    }

    private static long flip(Path file, long offset) throws IOException {
        VhdEdits.flipByte(file, offset);
        return offset;
    }

    private static long footer(Path file, long at, java.util.function.Consumer<ByteBuffer> edit) throws IOException {
        VhdEdits.editFooter(file, at, edit);
        return at;
    }

    private static long bothFooters(Path file, java.util.function.Consumer<ByteBuffer> edit) throws IOException {
        VhdEdits.editBothFooters(file, edit);
        return Files.size(file) - 512;
    }

    private static long header(Path file, java.util.function.Consumer<ByteBuffer> edit) throws IOException {
        VhdEdits.editHeader(file, HEADER_AT, edit);
        return HEADER_AT;
    }

    private static long locator(Path file, int index, java.util.function.Consumer<ByteBuffer> edit) throws IOException {
        int at = DynamicDiskHeader.PARENT_LOCATOR_ENTRIES_AT + index * ParentLocatorEntry.SIZE;
        VhdEdits.editHeader(file, HEADER_AT, raw -> edit.accept(raw.slice(at, ParentLocatorEntry.SIZE)));
        return HEADER_AT + at;
    }

    private static long batEntry(Path file, int block, int sector) throws IOException {
        VhdEdits.writeBytes(file, TABLE_AT + block * 4L, ByteBuffer.allocate(4).putInt(0, sector));
        return TABLE_AT + block * 4L;
    }

    private static int readBatEntry(Path file, int block) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer entry = ByteBuffer.allocate(4);
            channel.read(entry, TABLE_AT + block * 4L);
            return entry.getInt(0);
        }
    }

    private static long truncate(Path file, long size) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(size);
        }
        return size;
    }
}
