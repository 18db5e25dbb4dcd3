package io.chainmerge.disk.vhd;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.ParentPath;
import io.chainmerge.disk.testing.Oracles;
import io.chainmerge.disk.testing.VhdOracles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The VHD structures on their own: geometry, bitmaps, locator data, time stamps, the footer's encoding. */
class VhdStructureTest {

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} bytes requested")
    @ValueSource(longs = {4L << 20, 50_000_000L, 500L << 20, 4L << 30, 40L << 30})
    void geometryIsTheOneQemuWritesForTheSameSize(long requested) throws IOException {
        Oracles.requireQemu();
        // qemu rounds the size up until its CHS geometry holds it: the geometry it stores is the
        // specification's for the size it ends up with.
        Path file = VhdOracles.qemuCreate(dir.resolve("g.vhd"), "dynamic", requested, false);
        VhdFooter footer;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer raw = ByteBuffer.allocate(VhdFooter.SIZE);
            channel.read(raw, 0);
            footer = VhdFooter.parse(file, 0, raw.clear(), "footer copy");
        }
        assertThat(DiskGeometry.forSize(footer.currentSize())).isEqualTo(footer.diskGeometry());
        assertThat(footer.diskGeometry().bytes()).isEqualTo(footer.currentSize());
        try (VhdFile disk = VhdFile.open(file, Access.READ)) {
            assertThat(disk.virtualSize()).isEqualTo(footer.currentSize());
        }
    }

    @Test
    void geometryRoundsDownAndTopsOutAtTheAtaLimit() {
        assertThat(DiskGeometry.forSize(4L << 20)).isEqualTo(new DiskGeometry(120, 4, 17));
        assertThat(DiskGeometry.forSize(4L << 20).bytes()).isLessThan(4L << 20);
        assertThat(DiskGeometry.forSize(2L << 40)).isEqualTo(new DiskGeometry(65535, 16, 255));
        assertThat(DiskGeometry.decode(new DiskGeometry(121, 4, 17).encode())).isEqualTo(new DiskGeometry(121, 4, 17));
    }

    @Test
    void footerEncodesToWhatItParsesWithAValidChecksum() throws IOException {
        VhdFooter footer = new VhdFooter(
                VhdFooter.FEATURES_RESERVED,
                VhdFooter.FORMAT_VERSION,
                0x200,
                VhdTime.of(Instant.parse("2026-01-02T03:04:05Z")),
                "d2v\0",
                0x0001_0002,
                "Wi2k",
                1L << 30,
                1L << 30,
                DiskGeometry.forSize(1L << 30),
                VhdFooter.DYNAMIC,
                UUID.fromString("01234567-89ab-cdef-0123-456789abcdef"),
                0);
        ByteBuffer raw = footer.encode();
        assertThat(raw.get(VhdFooter.UNIQUE_ID_AT)).isEqualTo((byte) 0x01); // big-endian, as libvhdi prints it
        assertThat(raw.getInt(VhdFooter.CHECKSUM_AT) & 0xFFFF_FFFFL).isEqualTo(Checksum.of(raw, VhdFooter.CHECKSUM_AT));
        assertThat(VhdFooter.parse(dir, 0, raw, "footer")).isEqualTo(footer);
    }

    @Test
    void sectorBitmapPutsTheFirstSectorInTheMostSignificantBit() throws IOException {
        assertThat(SectorBitmap.sizeFor(512 << 10)).isEqualTo(512);
        assertThat(SectorBitmap.sizeFor(2 << 20)).isEqualTo(512);
        assertThat(SectorBitmap.sizeFor(32 << 20)).isEqualTo(8192);
        assertThat(SectorBitmap.sizeFor(4096)).isEqualTo(512);
        SectorBitmap bitmap = SectorBitmap.clear(512);
        bitmap.set(1, 1);
        bitmap.set(13, 5);
        assertThat(bitmap.bytes()[0]).isEqualTo((byte) 0x40);
        assertThat(bitmap.bytes()[1]).isEqualTo((byte) 0x07);
        assertThat(bitmap.bytes()[2]).isEqualTo((byte) 0xC0);
        assertThat(bitmap.allSet(13, 5)).isTrue();
        assertThat(bitmap.allSet(12, 5)).isFalse();
        List<int[]> runs = new ArrayList<>();
        bitmap.forEachRun(0, 32, (first, count) -> runs.add(new int[] {first, count}));
        assertThat(runs).containsExactly(new int[] {1, 1}, new int[] {13, 5});
        runs.clear();
        bitmap.forEachRun(14, 2, (first, count) -> runs.add(new int[] {first, count}));
        assertThat(runs).containsExactly(new int[] {14, 2});
    }

    @Test
    void platformDataSpaceCountsSectorsBelow512AndBytesAbove() {
        assertThat(new ParentLocatorEntry(ParentLocatorEntry.W2RU, 8, 100, 4096).reservedBytes())
                .isEqualTo(4096);
        assertThat(new ParentLocatorEntry(ParentLocatorEntry.W2RU, 65536, 32, 4096).reservedBytes())
                .isEqualTo(65536);
        assertThat(new ParentLocatorEntry(ParentLocatorEntry.W2RU, 700, 1000, 4096).reservedBytes())
                .isEqualTo(1000);
    }

    @Test
    void locatorDataIsReadInTheEncodingEachPlatformCodeUses() {
        assertThat(path(ParentLocatorEntry.W2RU, ".\\base.vhd\0".getBytes(StandardCharsets.UTF_16LE)))
                .contains(new ParentPath(ParentPath.Kind.RELATIVE, ".\\base.vhd"));
        assertThat(path(ParentLocatorEntry.W2KU, "C:\\vms\\base.vhd".getBytes(StandardCharsets.UTF_16LE)))
                .contains(new ParentPath(ParentPath.Kind.ABSOLUTE, "C:\\vms\\base.vhd"));
        assertThat(path(ParentLocatorEntry.WI2R, ".\\b\u00e4se.vhd".getBytes(StandardCharsets.ISO_8859_1)))
                .contains(new ParentPath(ParentPath.Kind.RELATIVE, ".\\b\u00e4se.vhd"));
        assertThat(path(ParentLocatorEntry.WI2K, "D:\\base.vhd".getBytes(StandardCharsets.UTF_16LE)))
                .contains(new ParentPath(ParentPath.Kind.ABSOLUTE, "D:\\base.vhd"));
        assertThat(path(
                        ParentLocatorEntry.MACX,
                        "file://localhost/Users/me/My%20Disk.vhd".getBytes(StandardCharsets.UTF_8)))
                .contains(new ParentPath(ParentPath.Kind.ABSOLUTE, "/Users/me/My Disk.vhd"));
        // blktap writes "file://" and the path it was given: relative to the child's folder.
        assertThat(path(ParentLocatorEntry.MACX, "file://./base.vhd\0\0".getBytes(StandardCharsets.UTF_8)))
                .contains(new ParentPath(ParentPath.Kind.RELATIVE, "./base.vhd"));
        assertThat(path(ParentLocatorEntry.MACX, "file://../vm/base.vhd".getBytes(StandardCharsets.UTF_8)))
                .contains(new ParentPath(ParentPath.Kind.RELATIVE, "../vm/base.vhd"));
        assertThat(path(ParentLocatorEntry.MACX, "file:///srv/vm/base.vhd".getBytes(StandardCharsets.UTF_8)))
                .contains(new ParentPath(ParentPath.Kind.ABSOLUTE, "/srv/vm/base.vhd"));
        assertThat(path(ParentLocatorEntry.MACX, "file://mac.local/Users/base.vhd".getBytes(StandardCharsets.UTF_8)))
                .contains(new ParentPath(ParentPath.Kind.OTHER, "/Users/base.vhd"));
        assertThat(path(ParentLocatorEntry.MAC, new byte[] {0, 1, 2, 3})).isEmpty();
        assertThat(path(ParentLocatorEntry.W2RU, "a\0b".getBytes(StandardCharsets.UTF_16LE)))
                .isEmpty();
        assertThat(path(ParentLocatorEntry.W2RU, new byte[0])).isEmpty();
        assertThat(new ParentLocatorEntry(ParentLocatorEntry.MAC, 0, 0, 0).platformName())
                .isEqualTo("Mac ");
        assertThat(new ParentLocatorEntry(0x01020304, 0, 0, 0).platformName()).isEqualTo("0x01020304");
    }

    @Test
    void timeStampsCountSecondsFrom2000AndRecordNothingOutsideAU32() {
        assertThat(VhdTime.of(Instant.parse("2000-01-01T00:00:10Z"))).isEqualTo(10);
        assertThat(VhdTime.toInstant(10)).isEqualTo(Instant.parse("2000-01-01T00:00:10Z"));
        assertThat(VhdTime.of(Instant.parse("1999-12-31T23:59:59Z"))).isZero();
        assertThat(VhdTime.of(Instant.parse("2200-01-01T00:00:00Z"))).isZero();
    }

    private static Optional<ParentPath> path(int code, byte[] data) {
        return new ParentLocatorEntry(code, 1, data.length, 512).path(data);
    }
}
