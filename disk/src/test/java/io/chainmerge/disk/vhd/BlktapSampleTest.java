package io.chainmerge.disk.vhd;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.ParentPath;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.merge.Merge;
import io.chainmerge.disk.merge.MergeProgress;
import io.chainmerge.disk.merge.MergeRequest;
import io.chainmerge.disk.testing.ContentModel;
import io.chainmerge.disk.testing.Oracles;
import io.chainmerge.disk.testing.VhdOracles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * VHD files blktap's {@code vhd-util} made (test resources {@code vhd/blktap}, README there): chainmerge
 * reads them as blktap does, and its writes, merges and re-points leave every byte it does not own as it
 * was, above all blktap's batmap header and map after the BAT, and the reserved bytes of the footer and
 * header. Where {@code vhd-util} is on the PATH, it checks the results too.
 */
class BlktapSampleTest {
    private static final int MIB = 1 << 20;
    private static final long SIZE = 8L * MIB;
    /** blktap's layout for these 8 MiB disks: the BAT's 4 entries, padded to 0x800; batmap header and map. */
    private static final int BAT_AT = 0x600;

    private static final int BAT_PADDING_AT = 0x610;
    private static final int BATMAP_AT = 0x800;
    private static final int BATMAP_END = 0xC00;
    /** child.vhd's three locators (MacX, W2ku, W2ru) take a sector each from 0xC00. */
    private static final int LOCATORS_END = 0x1200;
    /** The footer's defined fields end with Saved State at 0x54; blktap keeps its "hidden" flag at 0x55. */
    private static final int FOOTER_RESERVED_AT = 0x55;

    @TempDir
    Path dir;

    /** The bytes blktap's {@code vhd-write} wrote at virtual offset {@code offset} with {@code seed} (README). */
    static byte[] pattern(long offset, int length, int seed) {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++) {
            long o = offset + i;
            data[i] = (byte) ((o / 512 * 7 + o % 512 + seed) % 251 + 1);
        }
        return data;
    }

    private static ContentModel rootContent() {
        ContentModel model = new ContentModel(SIZE);
        model.write(0, pattern(0, 262144, 1));
        model.write(4L * MIB, pattern(4L * MIB, 65536, 2));
        return model;
    }

    private static ContentModel chainContent() {
        ContentModel model = rootContent();
        model.write(131072, pattern(131072, 4096, 3));
        model.write(2L * MIB, pattern(2L * MIB, 1536, 4));
        model.write(6L * MIB, pattern(6L * MIB, 2 * MIB, 5));
        return model;
    }

    private Path sample(String name) throws IOException {
        return sample(name, dir);
    }

    private static Path sample(String name, Path into) throws IOException {
        Path file = into.resolve(name);
        try (InputStream in = BlktapSampleTest.class.getResourceAsStream("blktap/" + name + ".gz")) {
            assertThat(in).as("test resource blktap/%s.gz", name).isNotNull();
            Files.write(file, new GZIPInputStream(in).readAllBytes());
        }
        return file;
    }

    @Test
    void blktapChainReadsAsBlktapCoalescedItInTheEngineQemuAndLibvhdi() throws IOException {
        Path root = sample("root.vhd");
        Path child = sample("child.vhd");
        Path coalesced = sample("coalesced.vhd");
        try (Chain chain = Chain.open(child, Access.READ)) {
            assertThat(chain.root().path()).isEqualTo(root.toRealPath());
            chain.top().verify();
            chainContent().assertChainEquals(chain.levels());
        }
        try (VirtualDisk disk = DiskFiles.open(coalesced, Access.READ)) {
            chainContent().assertChainEquals(List.of(disk));
        }
        try (VirtualDisk disk = DiskFiles.open(child, Access.READ)) {
            // The MacX locator is a URL relative to the child's folder, as blktap writes it.
            assertThat(disk.parentLink().orElseThrow().paths())
                    .contains(new ParentPath(ParentPath.Kind.RELATIVE, "./root.vhd"));
        }
        Oracles.requireQemu();
        chainContent().assertRawEquals(VhdOracles.qemuToRaw(coalesced, dir.resolve("coalesced.raw")));
        Oracles.requireLibvhdi();
        // Every write in child.vhd ends on an 8-sector boundary or over parent zeros: within libvhdi's limits.
        chainContent().assertRawEquals(Oracles.vhdiToRaw(dir.resolve("chain.raw"), child, root));
    }

    @Test
    void writingIntoAnEmptyBlktapDiskKeepsItsBatmapAndGrowsAfterIt() throws IOException {
        Path file = sample("empty.vhd");
        byte[] before = Files.readAllBytes(file);
        long oldFooterAt = before.length - 512;
        ContentModel model = new ContentModel(SIZE);
        try (VirtualDisk disk = DiskFiles.open(file, Access.WRITE)) {
            model.writeBoth(disk, 2L * MIB + 8192, pattern(2L * MIB + 8192, 65536, 9));
        }
        byte[] after = Files.readAllBytes(file);
        assertSame(before, after, 0, BAT_AT, "footer copy and header");
        assertSame(before, after, BAT_PADDING_AT, (int) oldFooterAt, "BAT padding, batmap header and map");
        assertThat(Arrays.copyOfRange(after, after.length - 512, after.length))
                .as("the footer at the new end, reserved bytes included")
                .isEqualTo(Arrays.copyOfRange(before, (int) oldFooterAt, before.length));
        assertThat(batEntry(after, 1) * 512L).as("the new block").isGreaterThanOrEqualTo(oldFooterAt);
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            disk.verify();
            model.assertChainEquals(List.of(disk));
        }
        Oracles.requireQemu();
        model.assertRawEquals(VhdOracles.qemuToRaw(file, dir.resolve("qemu.raw")));
        vhdUtilCheck(file);
    }

    @Test
    void mergingABlktapChildIntoItsBlktapParentKeepsTheParentsBytesAndReadsAsBlktapsCoalesce() throws IOException {
        Path root = sample("root.vhd");
        Path child = sample("child.vhd");
        byte[] before = Files.readAllBytes(root);
        long oldFooterAt = before.length - 512;
        Merge.run(MergeRequest.of(child), MergeProgress.NONE);
        assertThat(child).doesNotExist();
        byte[] after = Files.readAllBytes(root);
        assertSame(before, after, 0, BAT_AT, "footer copy and header");
        assertSame(before, after, BAT_PADDING_AT, BATMAP_END, "BAT padding, batmap header and map");
        assertThat(Arrays.copyOfRange(after, after.length - 512, after.length))
                .as("the footer at the new end, reserved bytes included")
                .isEqualTo(Arrays.copyOfRange(before, (int) oldFooterAt, before.length));
        for (int block : new int[] {1, 3}) {
            assertThat(batEntry(after, block) * 512L).as("new block %d", block).isGreaterThanOrEqualTo(oldFooterAt);
        }
        try (VirtualDisk disk = DiskFiles.open(root, Access.READ)) {
            disk.verify();
            chainContent().assertChainEquals(List.of(disk));
        }
        Oracles.requireQemu();
        chainContent().assertRawEquals(VhdOracles.qemuToRaw(root, dir.resolve("merged.raw")));
        vhdUtilCheck(root);
    }

    @Test
    void aChildChainmergeMakesOverAnEmptyBlktapDiskChecksCleanAndMergesWithoutTouchingTheBatmap() throws IOException {
        Path root = sample("empty.vhd");
        Path child = dir.resolve("empty_1.vhd");
        byte[] before = Files.readAllBytes(root);
        long oldFooterAt = before.length - 512;
        ContentModel model = new ContentModel(SIZE);
        try (VirtualDisk parent = DiskFiles.open(root, Access.READ);
                VirtualDisk disk = DiskFiles.createDifferencing(child, parent)) {
            model.writeBoth(disk, 0, pattern(0, 3 * MIB, 11));
            model.writeBoth(disk, 7L * MIB, pattern(7L * MIB, 4096, 12));
        }
        vhdUtilCheck(child);
        Merge.run(MergeRequest.of(child), MergeProgress.NONE);
        byte[] after = Files.readAllBytes(root);
        assertSame(before, after, 0, BAT_AT, "footer copy and header");
        assertSame(before, after, BAT_PADDING_AT, (int) oldFooterAt, "BAT padding, batmap header and map");
        try (VirtualDisk disk = DiskFiles.open(root, Access.READ)) {
            disk.verify();
            model.assertChainEquals(List.of(disk));
        }
        Oracles.requireQemu();
        model.assertRawEquals(VhdOracles.qemuToRaw(root, dir.resolve("merged.raw")));
        vhdUtilCheck(root);
    }

    @Test
    void repointingABlktapChildRewritesItsLocatorsWhereBlktapKeepsThemAndNothingElse() throws IOException {
        Path root = sample("root.vhd", Files.createDirectories(dir.resolve("moved")));
        Path child = sample("child.vhd");
        byte[] before = Files.readAllBytes(child);
        try (VirtualDisk parent = DiskFiles.open(root, Access.READ);
                VirtualDisk disk = DiskFiles.open(child, Access.WRITE)) {
            disk.setParent(parent);
            assertThat(disk.details()).containsEntry("parentUnicodeName", "root.vhd");
            assertThat(disk.parentLink().orElseThrow().paths())
                    .startsWith(new ParentPath(ParentPath.Kind.RELATIVE, ".\\moved\\root.vhd"));
        }
        byte[] after = Files.readAllBytes(child);
        assertThat(after).as("the file does not grow").hasSameSizeAs(before);
        assertSame(before, after, 0, 0x200, "footer copy");
        int header = 0x200;
        assertSame(before, after, header + 0x3C, header + 0x40, "header reserved word after Parent Time Stamp");
        for (int entry = 0; entry < 8; entry++) {
            int reserved = header + DynamicDiskHeader.PARENT_LOCATOR_ENTRIES_AT + entry * 24 + 12;
            assertSame(before, after, reserved, reserved + 4, "reserved word of locator entry " + entry);
        }
        assertSame(before, after, header + 0x300, header + 0x400, "header reserved bytes at its end");
        assertSame(before, after, BAT_AT, BATMAP_END, "BAT, batmap header and map");
        // blktap's locator slots [0xC00, 0x1200) take the new locators; all after them stays.
        assertSame(before, after, LOCATORS_END, after.length, "blocks and footer");
        ByteBuffer newHeader = ByteBuffer.wrap(after, header, 1024).slice().order(ByteOrder.BIG_ENDIAN);
        for (int entry = 0; entry < 2; entry++) {
            long offset = newHeader.getLong(DynamicDiskHeader.PARENT_LOCATOR_ENTRIES_AT + entry * 24 + 16);
            assertThat(offset).as("locator %d data", entry).isBetween((long) BATMAP_END, (long) LOCATORS_END - 512);
        }
        try (Chain chain = Chain.open(child, Access.READ)) {
            assertThat(chain.root().path()).isEqualTo(root.toRealPath());
            chainContent().assertChainEquals(chain.levels());
        }
        vhdUtilCheck(child);
    }

    private static void assertSame(byte[] before, byte[] after, int from, int to, String what) {
        int differs = Arrays.mismatch(
                Arrays.copyOfRange(before, from, to), Arrays.copyOfRange(after, from, Math.min(to, after.length)));
        assertThat(differs)
                .as("%s [0x%x, 0x%x): first changed byte at 0x%x", what, from, to, from + differs)
                .isEqualTo(-1);
    }

    private static long batEntry(byte[] file, int block) {
        return ByteBuffer.wrap(file).order(ByteOrder.BIG_ENDIAN).getInt(BAT_AT + block * 4) & 0xffffffffL;
    }

    /**
     * {@code vhd-util check} of {@code file}, where blktap's vhd-util is on the PATH, else nothing: it is
     * never required, not even in CI; the byte comparisons are what keep this true without it.
     */
    static void vhdUtilCheck(Path file) {
        if (!onPath("vhd-util")) {
            return;
        }
        Oracles.Result result = Oracles.run(List.of("vhd-util", "check", "-n", file.toString()), false);
        assertThat(result.exitCode())
                .as("vhd-util check of %s:\n%s", file, result.output())
                .isZero();
        assertThat(result.output()).contains("is valid");
    }

    static boolean onPath(String command) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String entry : path.split(":")) {
            if (Files.isExecutable(Path.of(entry, command))) {
                return true;
            }
        }
        return false;
    }
}
