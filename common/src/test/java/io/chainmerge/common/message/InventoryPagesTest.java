package io.chainmerge.common.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.common.json.JsonCodec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A scan in pages: each page small, put together only from every page of one scan. */
class InventoryPagesTest {
    private final MessageCodec codec = new MessageCodec(new JsonCodec());
    private final Instant at = Instant.parse("2026-12-01T10:00:00Z");

    @Test
    void aDiskKeepsItsChainsRootOnTheWire() throws Exception {
        InventoryDisk child = new InventoryDisk(
                "/srv/vol/vm_1.avhdx",
                "VHDX",
                "DIFFERENCING",
                1L << 34,
                1L << 24,
                Instant.parse("2026-12-08T00:00:00Z"),
                "OK",
                "/srv/vol/vm.vhdx",
                List.of(),
                2,
                "/srv/vol/vm.vhdx",
                null);
        String json = new JsonCodec().write(child);
        assertThat(json).contains("\"root\":\"/srv/vol/vm.vhdx\"");
        assertThat(new JsonCodec().mapper().readValue(json, InventoryDisk.class))
                .isEqualTo(child);
    }

    @Test
    void oneHundredThousandDisksSplitIntoPagesUnderTheLimitAndComeBackWhole() throws Exception {
        VolumeInventory whole = volume(100_000, 3);
        List<VolumeInventory> pages = InventoryPages.split(whole, "s1", codec, InventoryPages.PAGE_BYTES);
        assertThat(pages).hasSizeGreaterThan(10);
        for (VolumeInventory page : pages) {
            byte[] json = codec.write(page);
            assertThat(json.length).isLessThanOrEqualTo(InventoryPages.PAGE_BYTES);
            assertThat(codec.read(json, VolumeInventory.class)).isEqualTo(page);
            assertThat(page.pageKey()).isEqualTo("storage-a:/srv/vol#" + page.page());
        }
        InventoryPages.Assembly assembly = new InventoryPages.Assembly(pages.get(pages.size() - 1));
        Optional<VolumeInventory> read = Optional.empty();
        // in any order, a page twice: complete only with the last one missing so far
        for (int i = pages.size() - 1; i >= 0; i--) {
            assertThat(read).isEmpty();
            read = assembly.add(pages.get(i));
            assembly.add(pages.get(pages.size() - 1));
        }
        assertThat(read).isPresent();
        assertThat(read.get().disks()).isEqualTo(whole.disks());
        assertThat(read.get().problems()).isEqualTo(whole.problems());
        assertThat(read.get().summary())
                .isEqualTo(new VolumeScan(
                        Schema.VERSION,
                        "j1",
                        "c1",
                        "pool-a",
                        "storage-a",
                        "/srv/vol",
                        at,
                        "s1",
                        pages.size(),
                        100_000));
    }

    @Test
    void aPageOfAnotherScanNeverCompletesOne() throws Exception {
        List<VolumeInventory> first = InventoryPages.split(volume(40, 0), "s1", codec, 2048);
        List<VolumeInventory> second = InventoryPages.split(volume(40, 0), "s2", codec, 2048);
        assertThat(first).hasSameSizeAs(second).hasSizeGreaterThan(2);
        InventoryPages.Assembly assembly = new InventoryPages.Assembly(first.get(0));
        for (int i = 0; i < first.size() - 1; i++) {
            assertThat(assembly.add(first.get(i))).isEmpty();
        }
        assertThatThrownBy(() -> assembly.add(second.get(second.size() - 1)))
                .isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining("does not match");
        assertThat(assembly.held()).isEqualTo(first.size() - 1);
    }

    @Test
    void pagesWhoseDisksDoNotAddUpToTheirCountAreRefused() {
        VolumeInventory whole = volume(10, 0);
        VolumeInventory lying = whole.asPage("s1", 0, 1, 10, whole.disks().subList(0, 9), List.of());
        assertThatThrownBy(() -> new InventoryPages.Assembly(lying).add(lying))
                .isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining("9 disks");
    }

    @Test
    void anEmptyVolumeIsOnePage() {
        List<VolumeInventory> pages = InventoryPages.split(volume(0, 0), "s1", codec, 1024);
        assertThat(pages).singleElement().satisfies(p -> {
            assertThat(p.pages()).isEqualTo(1);
            assertThat(p.diskCount()).isZero();
        });
    }

    @Test
    void anEarlierReleasesWholeInventoryReadsAsOnePageAndAsAResultsScanWithoutItsDisks() throws Exception {
        VolumeInventory whole = volume(5, 1);
        byte[] json = codec.write(whole);
        String old = new String(json).replace(",\"scanId\":null,\"page\":0,\"pages\":1,\"diskCount\":5", "");
        assertThat(old).doesNotContain("scanId");
        VolumeInventory read = codec.read(old.getBytes(), VolumeInventory.class);
        assertThat(read.scanId()).isNull();
        assertThat(read.pages()).isEqualTo(1);
        assertThat(read.diskCount()).isEqualTo(5);
        assertThat(read.pageKey()).isEqualTo("storage-a:/srv/vol");
        // a result of an earlier release held the whole inventory; read today it names the volume only
        VolumeScan scan = codec.read(old.getBytes(), VolumeScan.class);
        assertThat(scan.scanId()).isNull();
        assertThat(scan.key()).isEqualTo("storage-a:/srv/vol");
        assertThat(new String(codec.write(scan))).doesNotContain("disks\"");
    }

    private VolumeInventory volume(int disks, int problems) {
        List<InventoryDisk> found = new ArrayList<>();
        for (int i = 0; i < disks; i++) {
            String path = "/srv/vol/vm%06d/vm%06d.vhdx".formatted(i, i);
            found.add(new InventoryDisk(
                    path, "VHDX", "DYNAMIC", 1L << 34, 1L << 24, at, "ROOT", null, List.of(), 1, null, null));
        }
        List<String> unreadable = new ArrayList<>();
        for (int i = 0; i < problems; i++) {
            unreadable.add("/srv/vol/bad" + i + ".vhdx: corrupt: bad signature");
        }
        return new VolumeInventory(
                Schema.VERSION,
                "j1",
                "c1",
                "pool-a",
                "storage-a",
                "/srv/vol",
                at,
                "ext4",
                1L << 40,
                1L << 39,
                found,
                unreadable,
                List.of(),
                0,
                null,
                null);
    }
}
