package io.chainmerge.disk.vhd;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.ParentPath;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.testing.ContentModel;
import io.chainmerge.disk.testing.Oracles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A differencing VHD laid out as Windows writes one (FORMAT_FACTS 2.1 and 2.3, observed on a diskpart
 * child): W2ku data at 0x1000 in 4096 bytes, the BAT at 0x2000, W2ru data at 0x3000 in 65536 bytes,
 * Platform Data Space counted in bytes, no parent time stamp, {@code C:\} paths. Plus the older locator
 * forms, so each is read as the parent's location or shown as what it is.
 */
class VhdWindowsLayoutTest {
    private static final int MIB = 1 << 20;
    private static final String ABSOLUTE = "C:\\Projects\\disks\\fat-parent.vhd";
    private static final String RELATIVE = ".\\fat-parent.vhd";

    @TempDir
    Path dir;

    private Path parent;
    private Path child;
    private final ContentModel model = new ContentModel(10L * MIB);

    @BeforeEach
    void windowsMadeChain() throws IOException {
        parent = dir.resolve("fat-parent.vhd");
        UUID parentId;
        try (VirtualDisk root = DiskFiles.create(parent, DiskSpec.dynamic(model.virtualSize()))) {
            model.writeBoth(root, 0, ContentModel.randomData(new Random(3), 5 * MIB));
            parentId = root.identity();
        }
        child = dir.resolve("fat-differential.vhd");
        writeWindowsChild(child, parentId);
    }

    @Test
    void locatorsAreReadInResolutionOrderAndOlderFormsShownForWhatTheyAre() throws IOException {
        try (VirtualDisk disk = DiskFiles.open(child, Access.READ)) {
            assertThat(disk.parentLink().orElseThrow().paths())
                    .containsExactly(
                            new ParentPath(ParentPath.Kind.RELATIVE, RELATIVE),
                            new ParentPath(ParentPath.Kind.ABSOLUTE, ABSOLUTE),
                            new ParentPath(ParentPath.Kind.ABSOLUTE, "D:\\old\\fat-parent.vhd"),
                            new ParentPath(ParentPath.Kind.ABSOLUTE, "/Users/me/fat-parent.vhd"));
            Map<String, Object> details = disk.details();
            assertThat(details)
                    .containsEntry("creatorApplication", "win ")
                    .containsEntry("parentTimeStamp", "not recorded")
                    .containsEntry("parentUnicodeName", ABSOLUTE);
            assertThat(details.get("parentLocators").toString())
                    .contains("W2ku at 4096 (" + ABSOLUTE.length() * 2 + " bytes): " + ABSOLUTE)
                    .contains("Mac  at")
                    .contains("(not a path chainmerge reads)");
            disk.verify();
        }
    }

    @Test
    void chainIsFoundThroughTheRelativeLocatorAndGrowsWhereWindowsPutsTheFirstBlock() throws IOException {
        Oracles.requireLibvhdi();
        try (Chain chain = Chain.open(child, Access.WRITE, Access.READ)) {
            VirtualDisk disk = chain.top();
            assertThat(chain.root().path()).isEqualTo(parent.toRealPath());
            model.writeBoth(disk, 2 * MIB + 4096, ContentModel.randomData(new Random(4), 3 * MIB));
        }
        // After the 64 KiB kept for W2ru at 0x3000 comes the first block: bitmap at sector 0x9F, data at
        // 0x14000, 4 KiB aligned, as in the files Windows writes.
        try (FileChannel channel = FileChannel.open(child, StandardOpenOption.READ)) {
            ByteBuffer entry = ByteBuffer.allocate(4);
            channel.read(entry, 0x2000 + 4);
            assertThat(entry.getInt(0)).isEqualTo(0x9F);
        }
        try (Chain chain = Chain.open(child, Access.READ)) {
            chain.top().verify();
            model.assertChainEquals(chain.levels());
        }
        model.assertRawEquals(Oracles.vhdiToRaw(dir.resolve("chain.raw"), child, parent));
    }

    @Test
    void setParentReplacesEveryLocatorWithFreshWindowsForms() throws IOException {
        Path moved = Files.createDirectories(dir.resolve("moved")).resolve("fat-parent.vhd");
        Files.move(parent, moved);
        try (VirtualDisk root = DiskFiles.open(moved, Access.READ);
                VirtualDisk disk = DiskFiles.open(child, Access.WRITE)) {
            disk.setParent(root);
            List<ParentPath> paths = disk.parentLink().orElseThrow().paths();
            assertThat(paths).first().isEqualTo(new ParentPath(ParentPath.Kind.RELATIVE, ".\\moved\\fat-parent.vhd"));
            assertThat(paths).extracting(ParentPath::kind).doesNotContain(ParentPath.Kind.OTHER);
            assertThat(disk.details().get("parentLocators").toString()).doesNotContain("Mac");
        }
        try (Chain chain = Chain.open(child, Access.READ)) {
            model.assertChainEquals(chain.levels());
        }
    }

    /** A child with no blocks, laid out and encoded as Windows does, plus older and Mac locators. */
    private static void writeWindowsChild(Path file, UUID parentId) throws IOException {
        long size = 10L * MIB;
        byte[] w2ku = ABSOLUTE.getBytes(StandardCharsets.UTF_16LE);
        byte[] w2ru = RELATIVE.getBytes(StandardCharsets.UTF_16LE);
        byte[] wi2k = "D:\\old\\fat-parent.vhd\0".getBytes(StandardCharsets.ISO_8859_1);
        byte[] macx = "file://localhost/Users/me/fat-parent.vhd".getBytes(StandardCharsets.UTF_8);
        byte[] alias = {0, 0, 1, 2, 3, 4, 0, 0};
        List<ParentLocatorEntry> entries = new ArrayList<>(List.of(
                new ParentLocatorEntry(ParentLocatorEntry.W2KU, 4096, w2ku.length, 0x1000),
                new ParentLocatorEntry(ParentLocatorEntry.W2RU, 65536, w2ru.length, 0x3000),
                new ParentLocatorEntry(ParentLocatorEntry.WI2K, 1, wi2k.length, 0x600),
                new ParentLocatorEntry(ParentLocatorEntry.MACX, 1, macx.length, 0x800),
                new ParentLocatorEntry(ParentLocatorEntry.MAC, 1, alias.length, 0xA00)));
        while (entries.size() < DynamicDiskHeader.LOCATOR_ENTRIES) {
            entries.add(ParentLocatorEntry.UNUSED);
        }
        VhdFooter footer = new VhdFooter(
                VhdFooter.FEATURES_RESERVED,
                VhdFooter.FORMAT_VERSION,
                0x200,
                0x2d4f_0000L,
                "win ",
                0x000a_0000L,
                "Wi2k",
                size,
                size,
                DiskGeometry.forSize(size),
                VhdFooter.DIFFERENCING,
                UUID.randomUUID(),
                0);
        long blocks = size / VhdFile.DEFAULT_BLOCK_SIZE;
        DynamicDiskHeader header = new DynamicDiskHeader(
                -1,
                0x2000,
                DynamicDiskHeader.HEADER_VERSION,
                blocks,
                VhdFile.DEFAULT_BLOCK_SIZE,
                parentId,
                0,
                ABSOLUTE,
                entries);
        try (FileChannel channel = FileChannel.open(
                file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            channel.write(footer.encode(), 0);
            channel.write(header.encode(), 0x200);
            channel.write(ByteBuffer.wrap(w2ku), 0x1000);
            channel.write(ByteBuffer.wrap(wi2k), 0x600);
            channel.write(ByteBuffer.wrap(macx), 0x800);
            channel.write(ByteBuffer.wrap(alias), 0xA00);
            channel.write(BlockAllocationTable.empty(blocks), 0x2000);
            channel.write(ByteBuffer.wrap(w2ru), 0x3000);
            channel.write(footer.encode(), 0x13000);
        }
    }
}
