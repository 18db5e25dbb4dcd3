package io.chainmerge.disk.vhd;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.DiskFormat;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.Extent;
import io.chainmerge.disk.Extents;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import io.chainmerge.disk.InvalidChainException;
import io.chainmerge.disk.ParentLink;
import io.chainmerge.disk.ParentPath;
import io.chainmerge.disk.ParentPaths;
import io.chainmerge.disk.SpaceEstimator;
import io.chainmerge.disk.UnsupportedDiskException;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.io.DiskChannel;
import io.chainmerge.disk.io.Guids;
import io.chainmerge.disk.io.WriteSession;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * A VHD file (Microsoft "Virtual Hard Disk Image Format Specification" 1.0): fixed, dynamic or
 * differencing. Not thread-safe: one operation uses an instance at a time.
 *
 * <p>Opening reads the footer at the end of the file or, when that one is damaged, the copy a dynamic or
 * differencing disk keeps at offset 0 (for reading only, and {@link #details()} says so); then the
 * dynamic disk header and the parent locators; the BAT when blocks are first needed. It checks what
 * reading needs; {@link #verify()} checks every BAT entry and that no two structures overlap, and so does
 * the first write of a session, so a damaged file is never written to. After a write or flush fails,
 * nothing more is committed, closing included.
 *
 * <h2>Writing without a log</h2>
 *
 * VHD has no log. Every change is ordered so that a crash at any instant leaves a file that reads the old
 * content or the new one, and ends with a valid footer:
 *
 * <ul>
 *   <li>The file grows by whole blocks: a block's bitmap, then its data (placed so the data is 4 KiB
 *       aligned, as Windows lays blocks out). Before anything is written over the last durable footer, a
 *       footer is written further on and flushed. At {@link #commit()} the footer is written at the exact
 *       end of the new blocks, flushed, and the file is cut after it, so the file grows by exactly what
 *       {@link #spaceEstimator()} predicts.
 *   <li>Data, and the bitmaps of blocks nothing points at yet, are flushed before the BAT entries and the
 *       bitmap bits that make them visible are written; those are flushed next.
 *   <li>The dynamic disk header is rewritten in one 1024-byte write, only after the parent locator data
 *       it points at has been written and flushed: where the file grows, in a file chainmerge created;
 *       into the current locators' reserved space, in another producer's (see {@link VhdWriter#writeLocators}). The header
 *       lies in the file's first 4 KiB, which storage with 4 KiB physical sectors writes atomically; on
 *       512-byte sectors a power cut could tear it, which VHD gives no way to avoid (Windows writes it in
 *       place too), and its checksum makes such a tear an error on opening, never a silent one.
 * </ul>
 *
 * <h2>Bytes another producer owns</h2>
 *
 * Only the structures the specification defines are chainmerge's to change. Bytes between the last of
 * them and the footer stay in use in a file another application created (blktap keeps its batmap
 * there), so such a file grows from its footer on; rewritten footers and headers keep their reserved
 * bytes. See {@link #scanLayout()} and docs/vhd.md.
 *
 * <h2>Identity</h2>
 *
 * A VHD's identity is its footer's Unique Id, which a child records as its Parent Unique ID and which
 * libvhdi and Hyper-V compare. Unlike a VHDX DataWriteGuid it does not follow the data, and a child
 * records one identity only: VHD has no second field like VHDX's parent_linkage2. So a merge S1..Sn into
 * D keeps D's unique id. Sn's link to D stays valid while D takes the data (the chain through Sn reads
 * the same all along, since Sn..S1 still hide every sector being copied), and the children of S1 are
 * re-pointed at D under the id it has always had. Giving D a new id at any step would break the link of
 * Sn, or of S1's children, until another file changed: a window no single write can close. Therefore
 * {@link #acceptParentIdentity}, {@link #changeIdentity} and {@link #adoptVirtualDiskId} change nothing,
 * and {@link #identity()} is the same before and after them; the virtual machine sees D's unique id after
 * a merge into D. The cost: a VHD parent changed behind a child's back keeps its id. The Parent Time
 * Stamp, the parent file's modification time as blktap and VirtualBox record it (Windows writes 0), is
 * the only trace, and chainmerge reports it rather than refusing on it: copying a file changes it too.
 */
public final class VhdFile implements VirtualDisk {
    /** "Sector length is always 512 bytes" (VHD spec). */
    static final int SECTOR_SIZE = 512;
    /** The specification's default, and what a fixed disk, which has no blocks, gives its children. */
    static final int DEFAULT_BLOCK_SIZE = 2 << 20;
    /** BAT entries are u32 sector numbers, so nothing in a VHD lies past 2 TiB. */
    static final long MAX_VIRTUAL_SIZE = 1L << 41;
    /** "The maximum size of a dynamic hard disk is 2040 GB" (VHD spec). */
    static final long MAX_NEW_VIRTUAL_SIZE = 2040L << 30;
    /** Where the files chainmerge makes keep the dynamic disk header and the BAT, as Windows and qemu do. */
    static final long NEW_HEADER_OFFSET = 0x200;

    static final long NEW_TABLE_OFFSET = 0x600;
    static final long ALL_ONES = -1L;
    static final int DATA_ALIGNMENT = 4096;
    /**
     * How far ahead the footer moves when the file grows, so one flush covers many blocks; one commit
     * adds at most this much. Until the commit the file is that much longer than it ends up (a hole,
     * where the file system has sparse files).
     */
    static final long BATCH_BYTES = 32L << 20;

    static final int MAX_DIRTY_BITMAPS = 4096;
    private static final int CACHED_BITMAPS = 256;
    /** Windows paths end at 32767 UTF-16 code units. */
    private static final int MAX_LOCATOR_LENGTH = 64 << 10;

    static final String CREATOR_APPLICATION = "cmrg";
    static final long CREATOR_VERSION = 0x0000_0001L;
    /** Every locator chainmerge writes is a Windows path: the host it describes is the one Hyper-V runs. */
    static final String CREATOR_HOST_OS = "Wi2k";

    final Path path;
    final DiskChannel channel;
    /** Whether this file may be written, and the latch a failed write trips: see {@link WriteSession}. */
    final WriteSession session;

    final VhdFooter footer;
    /** The footer's bytes as read: rewriting it keeps the bytes it does not define (see {@link VhdFooter#encodeOver}). */
    final byte[] footerBytes;
    /** Where the footer was read: the end of the file, or 0 when the copy stood in for a damaged one. */
    private final long footerReadAt;

    private final List<String> footerNotes;
    final BlockGeometry blocks;
    /** Read on first use: opening, which scans do by the thousand, reads headers only. */
    BlockAllocationTable bat;

    DynamicDiskHeader header;
    /** The header's bytes as read or last written, kept the same way. */
    byte[] headerBytes;

    List<Locator> locators;
    List<Range> metadata;
    /** Where the footer at the end of the file starts: no structure reaches past it. */
    long footerAt;

    /** The write path: blocks, bitmaps, the footer moving on, header updates. */
    private final VhdWriter writer;

    final Map<Long, SectorBitmap> bitmapCache = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, SectorBitmap> eldest) {
            return size() > CACHED_BITMAPS;
        }
    };
    final BitSet checkedBlocks = new BitSet();

    /** A used parent locator entry, its place among the eight, and the location its data names (or null). */
    record Locator(int index, ParentLocatorEntry entry, ParentPath path) {}

    /** A structure's bytes {@code [start, end)}; {@code at} is where the field locating it is. */
    private record Range(String name, long start, long end, long at) {
        boolean overlaps(long otherStart, long otherEnd) {
            return start < otherEnd && otherStart < end;
        }
    }

    private VhdFile(Path path, DiskChannel channel, Access access) throws IOException {
        this.path = path;
        this.channel = channel;
        this.session = new WriteSession(path, channel.isWritable());
        this.writer = new VhdWriter(this);
        VhdFooterReader.FooterRead read = VhdFooterReader.read(path, channel, access);
        this.footer = read.footer();
        this.footerBytes = read.bytes();
        this.footerReadAt = read.readAt();
        this.footerAt = read.endAt();
        this.footerNotes = read.notes();
        footer.check(path, footerReadAt);
        if (footer.inSavedState() && access == Access.WRITE) {
            throw new GuardRefusal(
                    Guard.IN_USE,
                    path,
                    path + ": in use: its footer says the virtual machine using it is in a saved state;"
                            + " resume or shut it down first");
        }
        if (footer.type() == DiskType.FIXED) {
            if (footerAt != footer.currentSize()) {
                throw new CorruptDiskException(
                        path,
                        footerReadAt + VhdFooter.CURRENT_SIZE_AT,
                        "footer Current Size",
                        "the fixed disk's data before the footer is %d bytes, Current Size says %d"
                                .formatted(footerAt, footer.currentSize()));
            }
            this.blocks = null;
            this.locators = List.of();
            this.metadata = List.of();
            return;
        }
        this.header = readHeader();
        this.blocks = new BlockGeometry(footer.currentSize(), header.blockSizeInt());
        this.locators = footer.type() == DiskType.DIFFERENCING ? readLocators(header) : List.of();
        this.metadata = metadataRanges(header, locators);
        checkMetadata();
        if (footer.type() == DiskType.DIFFERENCING && header.parentUniqueId().equals(Guids.ZERO)) {
            throw new UnsupportedDiskException(
                    path,
                    "a differencing disk with no Parent Unique ID: its parent is a raw image (as blktap records it)");
        }
    }

    /** A new dynamic disk header is durable: what it points at is read again from it. */
    void headerPublished(DynamicDiskHeader published, byte[] bytes) throws IOException {
        header = published;
        headerBytes = bytes;
        locators = readLocators(header);
        metadata = metadataRanges(header, locators);
    }

    /** The footer as read, for {@link VhdCreator} to give a child its parent's geometry. */
    VhdFooter footer() {
        return footer;
    }

    public static VhdFile open(Path file, Access access) throws IOException {
        DiskChannel channel = DiskChannel.open(file, access);
        try {
            return new VhdFile(channel.path(), channel, access);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    static ByteBuffer read(DiskChannel channel, long offset, int length, String structure) throws IOException {
        ByteBuffer raw = ByteBuffer.allocate(length);
        channel.readFully(raw, offset, structure);
        return raw.clear();
    }

    private DynamicDiskHeader readHeader() throws IOException {
        long offset = footer.dataOffset();
        if (offset < VhdFooter.SIZE || offset > footerAt - DynamicDiskHeader.SIZE) {
            throw new CorruptDiskException(
                    path,
                    footerReadAt + VhdFooter.DATA_OFFSET_AT,
                    "footer Data Offset",
                    "the dynamic disk header would lie at %s, outside the file's [512, %d)"
                            .formatted(Long.toUnsignedString(offset), footerAt));
        }
        ByteBuffer raw = read(channel, offset, DynamicDiskHeader.SIZE, "dynamic disk header");
        headerBytes = raw.array();
        DynamicDiskHeader parsed = DynamicDiskHeader.parse(path, offset, raw.duplicate());
        parsed.check(path, offset, footer.currentSize());
        long table = parsed.tableOffset();
        if (table < VhdFooter.SIZE || table > footerAt || table + parsed.maxTableEntries() * 4 > footerAt) {
            throw new CorruptDiskException(
                    path,
                    offset + DynamicDiskHeader.TABLE_OFFSET_AT,
                    "dynamic disk header Table Offset",
                    "the BAT of %d entries at %s would not lie inside the file's [512, %d): the offset is wrong or the file is truncated"
                            .formatted(parsed.maxTableEntries(), Long.toUnsignedString(table), footerAt));
        }
        return parsed;
    }

    List<Locator> readLocators(DynamicDiskHeader from) throws IOException {
        List<Locator> found = new ArrayList<>();
        List<ParentLocatorEntry> entries = from.parentLocatorEntries();
        for (int i = 0; i < entries.size(); i++) {
            ParentLocatorEntry entry = entries.get(i);
            if (!entry.isUsed()) {
                continue;
            }
            long entryAt = locatorEntryOffset(i);
            String field = "parent locator entry " + (i + 1) + " (" + entry.platformName() + ")";
            long length = entry.platformDataLength();
            long offset = entry.platformDataOffset();
            if (length > MAX_LOCATOR_LENGTH) {
                throw new CorruptDiskException(
                        path, entryAt, field + " Platform Data Length", length + " bytes, more than any path takes");
            }
            if (offset < VhdFooter.SIZE || offset > footerAt - length) {
                throw new CorruptDiskException(
                        path,
                        entryAt,
                        field + " Platform Data Offset",
                        "its %d bytes at %s would not lie inside the file's [512, %d)"
                                .formatted(length, Long.toUnsignedString(offset), footerAt));
            }
            byte[] data = new byte[(int) length];
            channel.readFully(ByteBuffer.wrap(data), offset, field + " data");
            found.add(new Locator(i, entry, entry.path(data).orElse(null)));
        }
        return found;
    }

    private long locatorEntryOffset(int index) {
        return footer.dataOffset()
                + DynamicDiskHeader.PARENT_LOCATOR_ENTRIES_AT
                + (long) index * ParentLocatorEntry.SIZE;
    }

    /** The structures other than blocks: the footer copy, the header, the BAT and the locator data. */
    List<Range> metadataRanges(DynamicDiskHeader from, List<Locator> parentLocators) {
        List<Range> ranges = new ArrayList<>();
        ranges.add(new Range("footer copy", 0, VhdFooter.SIZE, footerReadAt + VhdFooter.DATA_OFFSET_AT));
        long headerAt = footer.dataOffset();
        ranges.add(new Range(
                "dynamic disk header",
                headerAt,
                headerAt + DynamicDiskHeader.SIZE,
                footerReadAt + VhdFooter.DATA_OFFSET_AT));
        ranges.add(new Range(
                "BAT",
                from.tableOffset(),
                from.tableOffset() + BlockAllocationTable.bytesFor(from.maxTableEntries()),
                headerAt + DynamicDiskHeader.TABLE_OFFSET_AT));
        for (Locator locator : parentLocators) {
            ParentLocatorEntry entry = locator.entry();
            ranges.add(new Range(
                    "parent locator " + entry.platformName() + " data",
                    entry.platformDataOffset(),
                    entry.platformDataOffset() + roundUpToSector(entry.reservedBytes()),
                    locatorEntryOffset(locator.index())));
        }
        return ranges;
    }

    /** The metadata structures lie before the footer and apart from each other. */
    private void checkMetadata() throws CorruptDiskException {
        for (int i = 0; i < metadata.size(); i++) {
            Range range = metadata.get(i);
            if (range.end() > footerAt) {
                throw new CorruptDiskException(
                        path,
                        range.at(),
                        range.name(),
                        "[%d, %d) reaches past the footer at %d".formatted(range.start(), range.end(), footerAt));
            }
            for (int j = 0; j < i; j++) {
                Range other = metadata.get(j);
                if (range.overlaps(other.start(), other.end())) {
                    throw new CorruptDiskException(
                            path,
                            range.at(),
                            range.name(),
                            "[%d, %d) overlaps the %s [%d, %d)"
                                    .formatted(range.start(), range.end(), other.name(), other.start(), other.end()));
                }
            }
        }
    }

    /**
     * What a differencing disk records of its parent (VHD spec, dynamic disk header): its unique id, its
     * file's modification time, its file name as the Parent Unicode Name, and the W2ru and W2ku locators.
     *
     * <p>The forms are chosen so that Windows, blktap and chainmerge all find the parent (docs/vhd.md,
     * "Parent names"): the name is the file name, as the specification says ("the parent hard disk
     * filename") and as blktap's {@code vhd-util check} requires (it compares the name with the last
     * component of every W2ru, W2ku and MacX path); W2ru is the relative Windows path, which Windows and
     * blktap try first; W2ku is the absolute path in Windows form without a drive ({@code
     * \srv\vol1\base.vhd}), a rooted Windows path that blktap opens as {@code /srv/vol1/base.vhd} and checks.
     */
    record ParentRecord(UUID uniqueId, long timeStamp, String unicodeName, String relative, String absolute) {

        static ParentRecord of(Path child, VirtualDisk parent) throws IOException {
            String relative = null;
            for (ParentPath form : ParentPaths.forParent(child, parent.path())) {
                if (form.kind() == ParentPath.Kind.RELATIVE) {
                    relative = form.value();
                }
            }
            if (relative == null) {
                throw new IllegalStateException("ParentPaths gives a relative form for every parent");
            }
            String absolute = ParentPaths.rooted(parent.path());
            String name = parent.path().getFileName().toString();
            if (name.length() > DynamicDiskHeader.MAX_NAME_LENGTH) {
                name = "";
            }
            long timeStamp = VhdTime.of(Files.getLastModifiedTime(parent.path()).toInstant());
            return new ParentRecord(parent.identity(), timeStamp, name, relative, absolute);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // What the disk is

    @Override
    public Path path() {
        return path;
    }

    @Override
    public DiskFormat format() {
        return DiskFormat.VHD;
    }

    @Override
    public DiskType type() {
        return footer.type();
    }

    /** The footer's Current Size, never the (often smaller) size its CHS geometry addresses. */
    @Override
    public long virtualSize() {
        return footer.currentSize();
    }

    /** The block size of a dynamic or differencing disk; for a fixed disk, which has none, 2 MiB. */
    @Override
    public int blockSize() {
        return blocks == null ? DEFAULT_BLOCK_SIZE : blocks.blockSize();
    }

    @Override
    public int logicalSectorSize() {
        return SECTOR_SIZE;
    }

    @Override
    public int physicalSectorSize() {
        return SECTOR_SIZE;
    }

    /** The footer's Unique Id: what a child records as its Parent Unique ID. See the class comment. */
    @Override
    public UUID identity() {
        return footer.uniqueId();
    }

    /** The footer's Unique Id: VHD has no separate id for the virtual machine to see. */
    @Override
    public UUID virtualDiskId() {
        return footer.uniqueId();
    }

    /**
     * The parent's unique id and the places to look for it: the W2ru and W2ku locators (relative first,
     * as for VHDX), the Parent Unicode Name, then the older Wi2r, Wi2k and MacX forms.
     */
    @Override
    public Optional<ParentLink> parentLink() {
        if (footer.type() != DiskType.DIFFERENCING) {
            return Optional.empty();
        }
        Set<ParentPath> paths = new LinkedHashSet<>();
        addLocatorPaths(paths, ParentLocatorEntry.W2RU);
        addLocatorPaths(paths, ParentLocatorEntry.W2KU);
        String name = header.parentUnicodeName();
        if (!name.isEmpty() && name.indexOf('\0') < 0) {
            // A bare file name, as blktap and chainmerge record it, is the parent beside the child.
            boolean relative = name.startsWith(".\\")
                    || name.startsWith("..\\")
                    || (name.indexOf('\\') < 0 && name.indexOf('/') < 0);
            paths.add(new ParentPath(relative ? ParentPath.Kind.RELATIVE : ParentPath.Kind.ABSOLUTE, name));
        }
        addLocatorPaths(paths, ParentLocatorEntry.WI2R);
        addLocatorPaths(paths, ParentLocatorEntry.WI2K);
        addLocatorPaths(paths, ParentLocatorEntry.MACX);
        return Optional.of(new ParentLink(List.of(header.parentUniqueId()), new ArrayList<>(paths)));
    }

    private void addLocatorPaths(Set<ParentPath> paths, int platformCode) {
        for (Locator locator : locators) {
            if (locator.entry().platformCode() == platformCode && locator.path() != null) {
                paths.add(locator.path());
            }
        }
    }

    @Override
    public long fileSize() throws IOException {
        return channel.size();
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable();
    }

    @Override
    public Map<String, Object> details() {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("footerOffset", footerReadAt);
        if (!footerNotes.isEmpty()) {
            details.put("footerNotes", footerNotes);
        }
        details.put("creatorApplication", printable(footer.creatorApplication()));
        details.put(
                "creatorVersion", "%d.%d".formatted(footer.creatorVersion() >>> 16, footer.creatorVersion() & 0xffff));
        details.put("creatorHostOs", printable(footer.creatorHostOs()));
        details.put("timeStamp", VhdTime.toInstant(footer.timeStamp()).toString());
        details.put("features", "0x%08x".formatted(footer.features()));
        details.put("originalSize", footer.originalSize());
        details.put("diskGeometry", footer.diskGeometry().toString());
        details.put("geometrySize", footer.diskGeometry().bytes());
        details.put("savedState", footer.inSavedState());
        if (header != null) {
            details.put("headerOffset", footer.dataOffset());
            details.put("tableOffset", header.tableOffset());
            details.put("maxTableEntries", header.maxTableEntries());
            try {
                details.put("allocatedBlocks", bat().allocatedCount());
            } catch (IOException e) {
                details.put("allocatedBlocks", "the BAT cannot be read: " + e.getMessage());
            }
            details.put("bitmapSize", blocks.bitmapSize());
        }
        if (footer.type() == DiskType.DIFFERENCING) {
            details.put("parentUniqueId", header.parentUniqueId().toString());
            details.put(
                    "parentTimeStamp",
                    header.parentTimeStamp() == 0
                            ? "not recorded"
                            : VhdTime.toInstant(header.parentTimeStamp()).toString());
            details.put("parentUnicodeName", header.parentUnicodeName());
            List<String> entries = new ArrayList<>();
            for (Locator locator : locators) {
                ParentLocatorEntry entry = locator.entry();
                entries.add("%s at %d (%d bytes): %s"
                        .formatted(
                                entry.platformName(),
                                entry.platformDataOffset(),
                                entry.platformDataLength(),
                                locator.path() == null
                                        ? "(not a path chainmerge reads)"
                                        : locator.path().value()));
            }
            details.put("parentLocators", entries);
        }
        return details;
    }

    private static String printable(String field) {
        StringBuilder text = new StringBuilder();
        for (char c : field.toCharArray()) {
            text.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : "\\x%02x".formatted((int) c));
        }
        return text.toString();
    }

    // ---------------------------------------------------------------------------------------------
    // Reading

    boolean differencing() {
        return footer.type() == DiskType.DIFFERENCING;
    }

    /**
     * A dynamic disk's present block is read whole, as qemu reads it: its bitmap is advisory, and the
     * specification's rule that a clear bit's sector holds zeros makes both readings equal. A
     * differencing disk defines exactly the sectors whose bits are set.
     */
    @Override
    public void extents(long offset, long length, List<Extent> out) throws IOException {
        checkRange(offset, length);
        if (length == 0) {
            return;
        }
        if (blocks == null) {
            Extents.addData(out, offset, length, offset);
            return;
        }
        int blockSize = blocks.blockSize();
        long end = offset + length;
        for (long block = offset / blockSize; block * blockSize < end; block++) {
            if (!bat().isAllocated(block)) {
                continue;
            }
            long blockStart = block * blockSize;
            long from = Math.max(offset, blockStart);
            long to = Math.min(end, blockStart + blocks.blockLength(block));
            long data = blockDataOffset(block);
            if (!differencing()) {
                Extents.addData(out, from, to - from, data + (from - blockStart));
                continue;
            }
            int first = (int) ((from - blockStart) / SECTOR_SIZE);
            int last = (int) ((to - blockStart + SECTOR_SIZE - 1) / SECTOR_SIZE);
            bitmap(block).forEachRun(first, last - first, (runFirst, runCount) -> {
                long runFrom = Math.max(from, blockStart + (long) runFirst * SECTOR_SIZE);
                long runTo = Math.min(to, blockStart + (long) (runFirst + runCount) * SECTOR_SIZE);
                Extents.addData(out, runFrom, runTo - runFrom, data + (runFrom - blockStart));
            });
        }
    }

    @Override
    public void readStored(long fileOffset, ByteBuffer destination) throws IOException {
        channel.readFully(destination, fileOffset, "block data");
    }

    void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > virtualSize()) {
            throw new IllegalArgumentException(
                    "[%d, +%d) is outside the virtual disk of %d bytes".formatted(offset, length, virtualSize()));
        }
    }

    /** Where an allocated block's data starts, after checking the block lies where it may. */
    long blockDataOffset(long block) throws IOException {
        checkBlock(block);
        return bat().sectorOf(block) * SECTOR_SIZE + blocks.bitmapSize();
    }

    /** A block the BAT points at lies before the footer and off the metadata; blocks' mutual overlaps are {@link #scanLayout}'s. */
    private void checkBlock(long block) throws IOException {
        if (checkedBlocks.get((int) block)) {
            return;
        }
        long start = bat().sectorOf(block) * SECTOR_SIZE;
        long end = start + storedLength(block);
        if (end > footerAt) {
            throw batCorrupt(
                    block,
                    "block [%d, %d) ends past the footer at %d: the file is truncated".formatted(start, end, footerAt));
        }
        for (Range range : metadata) {
            if (range.overlaps(start, end)) {
                throw batCorrupt(block, "block [%d, %d) overlaps the %s".formatted(start, end, range.name()));
            }
        }
        checkedBlocks.set((int) block);
    }

    /** The bytes of a block the file must hold: its bitmap and the data up to the disk's end. */
    private long storedLength(long block) {
        long data = block < blocks.blocks() ? blocks.blockLength(block) : blocks.blockSize();
        return blocks.bitmapSize() + data;
    }

    BlockAllocationTable bat() throws IOException {
        if (bat == null) {
            bat = BlockAllocationTable.read(channel, header.tableOffset(), (int) header.maxTableEntries());
        }
        return bat;
    }

    private CorruptDiskException batCorrupt(long block, String problem) {
        return new CorruptDiskException(path, header.tableOffset() + block * 4, "BAT entry " + block, problem);
    }

    /** The block's sector bitmap: the pending one if a write changed it, else the file's. */
    SectorBitmap bitmap(long block) throws IOException {
        SectorBitmap pending = writer.pendingBitmap(block);
        if (pending != null) {
            return pending;
        }
        SectorBitmap cached = bitmapCache.get(block);
        if (cached != null) {
            return cached;
        }
        checkBlock(block);
        ByteBuffer raw = ByteBuffer.allocate(blocks.bitmapSize());
        channel.readFully(raw, bat().sectorOf(block) * SECTOR_SIZE, "sector bitmap of block " + block);
        SectorBitmap bitmap = new SectorBitmap(raw.array());
        bitmapCache.put(block, bitmap);
        return bitmap;
    }

    // ---------------------------------------------------------------------------------------------
    // Writing

    @Override
    public void write(long offset, ByteBuffer source) throws IOException {
        writer.write(offset, source);
    }

    @Override
    public void writeZeros(long offset, long length) throws IOException {
        writer.writeZeros(offset, length);
    }

    /** The first offset at or after {@code from} whose part after {@code leading} bytes is aligned. */
    static long place(long from, int leading, int alignment) {
        return (from + leading + alignment - 1) / alignment * alignment - leading;
    }

    /**
     * Makes every write so far durable, in the order the class comment gives: data, new blocks' bitmaps
     * and the footer at the exact new end flushed, the file cut after that footer, then the BAT entries,
     * the changed bitmaps of blocks already in the BAT and a new header written and flushed.
     */
    @Override
    public void commit() throws IOException {
        if (!channel.isWritable() || session.isClosed()) {
            return;
        }
        session.requireNoFailure();
        session.latching(writer::publish);
    }

    @Override
    public void flushWrittenData() throws IOException {
        channel.force();
    }

    @Override
    public SpaceEstimator spaceEstimator() throws IOException {
        if (blocks == null) {
            return new SpaceEstimator() {
                @Override
                public void add(long offset, long length, boolean zeros) {
                    checkRange(offset, length);
                }

                @Override
                public long growthBytes() {
                    return 0; // a fixed disk is written in place
                }
            };
        }
        long nextFree = writer.nextFree();
        return new VhdEstimator(this, writer.growing() ? nextFree + VhdFooter.SIZE : channel.size(), nextFree);
    }

    private void requireDifferencing() {
        if (!differencing()) {
            throw new IllegalStateException(path + " is not a differencing disk");
        }
    }

    static long roundUpToSector(long bytes) {
        return (bytes + SECTOR_SIZE - 1) / SECTOR_SIZE * SECTOR_SIZE;
    }

    // ---------------------------------------------------------------------------------------------
    // Chain maintenance

    /**
     * Nothing to record: a VHD child keeps one parent identity, and a VHD parent's identity does not
     * change in a merge (see the class comment), so the link already holds through it.
     */
    @Override
    public void acceptParentIdentity(UUID futureParentIdentity) throws IOException {
        session.requireWritable();
        requireDifferencing();
    }

    /** Keeps the unique id: children link to it and cannot take a second one (see the class comment). */
    @Override
    public void changeIdentity(UUID newIdentity) throws IOException {
        session.requireWritable();
    }

    /**
     * Keeps the unique id, which is also what the virtual machine sees: taking the merged child's would
     * break the links to this disk (see the class comment).
     */
    @Override
    public void adoptVirtualDiskId(UUID virtualDiskId) throws IOException {
        session.requireWritable();
    }

    /**
     * Records {@code parent}: its unique id, its file's modification time, its name and fresh W2ru and
     * W2ku locators (older and Mac forms, which would name the old place, are dropped). New locator data
     * goes where the file grows, never over the data the current header points at, and is flushed before
     * the header is rewritten in one write; nothing changes when everything recorded already matches.
     */
    @Override
    public void setParent(VirtualDisk parent) throws IOException {
        if (parent.format() != DiskFormat.VHD) {
            throw new InvalidChainException(
                    path, path + ": a VHD disk cannot have the " + parent.format() + " parent " + parent.path());
        }
        session.requireWritable();
        requireDifferencing();
        ParentRecord wanted = ParentRecord.of(path, parent);
        boolean sameLocators = locators.size() == 2
                && wanted.relative().equals(locatorValue(ParentLocatorEntry.W2RU))
                && wanted.absolute().equals(locatorValue(ParentLocatorEntry.W2KU));
        if (sameLocators
                && header.parentUniqueId().equals(wanted.uniqueId())
                && header.parentTimeStamp() == wanted.timeStamp()
                && header.parentUnicodeName().equals(wanted.unicodeName())) {
            return;
        }
        commit();
        List<ParentLocatorEntry> entries;
        try {
            entries = sameLocators ? header.parentLocatorEntries() : writer.writeLocators(wanted);
        } catch (IOException e) {
            throw session.failed(e);
        }
        CrashPoints.reach("vhd.set-parent.locators-written");
        writer.headerToPublish(header.withParent(wanted.uniqueId(), wanted.timeStamp(), wanted.unicodeName(), entries));
        commit();
    }

    /**
     * The Parent Time Stamp against the parent file's modification time, when the child recorded one
     * (Windows records none). A copy that does not keep the file's time changes it, and so does a change
     * to the parent's data, which a VHD's unique id does not show: the report says so and lets the
     * identity decide.
     */
    @Override
    public List<String> parentRecordMismatches(VirtualDisk parent) throws IOException {
        if (!differencing() || header.parentTimeStamp() == 0) {
            return List.of();
        }
        long actual = VhdTime.of(Files.getLastModifiedTime(parent.path()).toInstant());
        if (actual == header.parentTimeStamp()) {
            return List.of();
        }
        return List.of(("only the time stamp differs: %s was last modified at %s, the child recorded %s. Its"
                        + " unique id matches, so it is the disk the child was made from; a copy that did not keep"
                        + " the file's time explains the difference, and so would a change to the parent's data,"
                        + " which VHD cannot tell apart")
                .formatted(parent.path(), VhdTime.toInstant(actual), VhdTime.toInstant(header.parentTimeStamp())));
    }

    private String locatorValue(int platformCode) {
        for (Locator locator : locators) {
            if (locator.entry().platformCode() == platformCode && locator.path() != null) {
                return locator.path().value();
            }
        }
        return null;
    }

    // ---------------------------------------------------------------------------------------------
    // Checking

    /**
     * Checks that every block the BAT points at lies before the footer, off the metadata and off every
     * other block, and returns where the file may grow: the first sector after every byte in use.
     *
     * <p>Bytes between the last structure the specification defines and the footer belong to whoever put
     * them there: blktap keeps its batmap header and map right after the BAT, and other producers may keep
     * their own. In a file another application created they all stay in use, so the file grows from the
     * footer on. Only in a file chainmerge created (creator {@code cmrg}) is that space known to be
     * chainmerge's own, left by a write a crash interrupted, and taken again.
     */
    long scanLayout() throws IOException {
        long end = VhdFooter.SIZE;
        for (Range range : metadata) {
            end = Math.max(end, range.end());
        }
        BlockAllocationTable table = bat();
        int count = table.size();
        long[] keys = new long[count];
        int used = 0;
        for (int block = 0; block < count; block++) {
            if (table.isAllocated(block)) {
                keys[used++] = (table.sectorOf(block) << 24) | block;
            }
        }
        Arrays.sort(keys, 0, used);
        long previousEnd = 0;
        long previous = -1;
        for (int i = 0; i < used; i++) {
            long block = keys[i] & ((1 << 24) - 1);
            long start = (keys[i] >>> 24) * SECTOR_SIZE;
            if (start < previousEnd) {
                throw batCorrupt(
                        block,
                        "block at %d overlaps block %d, which ends at %d".formatted(start, previous, previousEnd));
            }
            checkBlock(block);
            previousEnd = start + storedLength(block);
            previous = block;
            end = Math.max(end, start + blocks.blockTotal());
        }
        end = roundUpToSector(end);
        if (end < footerAt && !createdHere()) {
            end = footerAt;
        }
        return end;
    }

    boolean createdHere() {
        return CREATOR_APPLICATION.equals(footer.creatorApplication());
    }

    /**
     * Checks every BAT entry: each block lies before the footer, off the metadata (footer copy, header,
     * BAT, locator data) and off every other block. The footers, the header and the metadata's own
     * layout are checked on opening.
     */
    @Override
    public void verify() throws IOException {
        if (blocks != null) {
            scanLayout();
        }
    }

    @Override
    public void close() throws IOException {
        if (session.isClosed()) {
            return;
        }
        try {
            if (!session.hasFailed()) {
                commit();
            }
        } finally {
            session.markClosed();
            channel.close();
        }
    }

    @Override
    public String toString() {
        return "VHD " + type().name().toLowerCase() + " " + path;
    }
}
