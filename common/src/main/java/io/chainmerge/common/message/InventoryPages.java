package io.chainmerge.common.message;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A volume's scan as pages on {@code chainmerge.inventory}: each page far under a broker's default
 * 1 MiB record limit, however many disks the volume holds, and put together again only when every page
 * of one scan is there. Pages of two scans never mix: each names its scan, how many pages it has and
 * how many disks it found, and a reader that sees page 2 of one scan beside page 1 of another (a
 * compaction or a read between a worker's sends) holds neither as complete.
 */
public final class InventoryPages {
    /**
     * The most a page's JSON holds, unless one disk alone is larger: a quarter of Kafka's default
     * {@code max.message.bytes}, leaving room for the record's own overhead.
     */
    public static final int PAGE_BYTES = 256 * 1024;

    private InventoryPages() {}

    /**
     * Splits a whole scan into pages of at most {@code maxBytes} of JSON each (a single disk or problem
     * larger than that gets a page of its own); there is always at least one page.
     */
    public static List<VolumeInventory> split(VolumeInventory whole, String scanId, MessageCodec codec, int maxBytes) {
        Schema.require(scanId, "scanId");
        int diskCount = whole.disks().size();
        // The figures every page repeats, measured with the widest numbers a page can carry.
        int overhead =
                codec.write(whole.asPage(scanId, 0, Integer.MAX_VALUE, diskCount, List.of(), List.of())).length + 16;
        List<List<InventoryDisk>> diskPages = new ArrayList<>();
        List<List<String>> problemPages = new ArrayList<>();
        List<InventoryDisk> disks = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        int bytes = overhead;
        for (InventoryDisk disk : whole.disks()) {
            int size = codec.write(disk).length + 1;
            if (!disks.isEmpty() && bytes + size > maxBytes) {
                diskPages.add(disks);
                problemPages.add(problems);
                disks = new ArrayList<>();
                problems = new ArrayList<>();
                bytes = overhead;
            }
            disks.add(disk);
            bytes += size;
        }
        for (String problem : whole.problems()) {
            int size = codec.write(problem).length + 1;
            if ((!disks.isEmpty() || !problems.isEmpty()) && bytes + size > maxBytes) {
                diskPages.add(disks);
                problemPages.add(problems);
                disks = new ArrayList<>();
                problems = new ArrayList<>();
                bytes = overhead;
            }
            problems.add(problem);
            bytes += size;
        }
        diskPages.add(disks);
        problemPages.add(problems);
        List<VolumeInventory> pages = new ArrayList<>();
        for (int i = 0; i < diskPages.size(); i++) {
            pages.add(whole.asPage(scanId, i, diskPages.size(), diskCount, diskPages.get(i), problemPages.get(i)));
        }
        return pages;
    }

    /**
     * The pages of one scan of one volume read so far. A page of another scan, or one that disagrees with
     * the first about the scan's shape, is refused; the scan is complete when every page is held and the
     * disks add up to the count every page names.
     */
    public static final class Assembly {
        private final VolumeInventory first;
        private final VolumeInventory[] pages;
        private int held;

        public Assembly(VolumeInventory page) {
            this.first = page;
            this.pages = new VolumeInventory[page.pages()];
        }

        public String scanId() {
            return first.scanId();
        }

        public VolumeInventory first() {
            return first;
        }

        /**
         * Adds a page of this scan (again is harmless: a compaction or a worker's retry may repeat it).
         *
         * @return the whole scan, once every page is held
         * @throws MalformedMessageException when the page contradicts the pages held: a scan torn between
         *     two writers, which must not be planned from
         */
        public Optional<VolumeInventory> add(VolumeInventory page) throws MalformedMessageException {
            if (!Objects.equals(page.scanId(), first.scanId())
                    || !page.key().equals(first.key())
                    || !page.pages().equals(first.pages())
                    || !page.diskCount().equals(first.diskCount())
                    || !page.scannedAt().equals(first.scannedAt())) {
                throw new MalformedMessageException(
                        "page " + page.page() + " of scan " + page.scanId() + " of "
                                + page.key() + " does not match the scan's other pages (" + first.pages() + " pages, "
                                + first.diskCount() + " disks, scanned at " + first.scannedAt() + ")",
                        null);
            }
            if (pages[page.page()] == null) {
                held++;
            }
            pages[page.page()] = page;
            return complete();
        }

        /** How many of the scan's pages are held. */
        public int held() {
            return held;
        }

        private Optional<VolumeInventory> complete() throws MalformedMessageException {
            if (held < pages.length) {
                return Optional.empty();
            }
            List<InventoryDisk> disks = new ArrayList<>(first.diskCount());
            List<String> problems = new ArrayList<>();
            for (VolumeInventory page : pages) {
                disks.addAll(page.disks());
                problems.addAll(page.problems());
            }
            if (disks.size() != first.diskCount()) {
                throw new MalformedMessageException(
                        "scan " + first.scanId() + " of " + first.key() + " has "
                                + disks.size() + " disks on its " + pages.length + " pages, not the "
                                + first.diskCount()
                                + " it names",
                        null);
            }
            return Optional.of(first.asPage(first.scanId(), 0, pages.length, disks.size(), disks, problems));
        }
    }
}
