package io.chainmerge.disk.vhdx;

import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.UnsupportedDiskException;
import io.chainmerge.disk.io.Guids;
import io.chainmerge.disk.io.StructReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * The metadata region (MS-VHDX 2.6): a 64 KiB table, then the items it lists. Known items are parsed;
 * unknown ones are kept byte for byte so a rewrite preserves them, and unknown required ones are refused.
 */
final class MetadataRegion {

    static final UUID FILE_PARAMETERS = UUID.fromString("CAA16737-FA36-4D43-B3B6-33F0AA44E76B");
    static final UUID VIRTUAL_DISK_SIZE = UUID.fromString("2FA54224-CD1B-4876-B211-5DBED83BF4B8");
    static final UUID VIRTUAL_DISK_ID = UUID.fromString("BECA12AB-B2E6-4523-93EF-C309E000C746");
    static final UUID LOGICAL_SECTOR_SIZE = UUID.fromString("8141BF1D-A96F-4709-BA47-F233A8FAAB5F");
    static final UUID PHYSICAL_SECTOR_SIZE = UUID.fromString("CDA348C7-445D-4471-9CC9-E9885251C556");
    static final UUID PARENT_LOCATOR = UUID.fromString("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C");

    static final int TABLE_SIZE = 64 * 1024;
    private static final long SIGNATURE = 0x617461646174656DL; // "metadata"
    private static final int ENTRY_COUNT_AT = 10;
    private static final int ENTRIES_AT = 32;
    private static final int ENTRY_SIZE = 32;
    private static final int MAX_ENTRIES = 2047;
    private static final int MAX_ITEM_LENGTH = (int) Layout.MIB;

    /** One item: its table entry's identity and flags, and its content. */
    record Item(UUID id, boolean isUser, boolean isVirtualDisk, boolean isRequired, byte[] content) {
        Item withContent(byte[] newContent) {
            return new Item(id, isUser, isVirtualDisk, isRequired, newContent);
        }
    }

    private final List<Item> items;
    final FileParameters fileParameters;
    final long virtualDiskSize;
    final UUID virtualDiskId;
    final int logicalSectorSize;
    final int physicalSectorSize;
    final ParentLocator parentLocator; // null for roots

    private MetadataRegion(
            List<Item> items,
            FileParameters fileParameters,
            long virtualDiskSize,
            UUID virtualDiskId,
            int logicalSectorSize,
            int physicalSectorSize,
            ParentLocator parentLocator) {
        this.items = List.copyOf(items);
        this.fileParameters = fileParameters;
        this.virtualDiskSize = virtualDiskSize;
        this.virtualDiskId = virtualDiskId;
        this.logicalSectorSize = logicalSectorSize;
        this.physicalSectorSize = physicalSectorSize;
        this.parentLocator = parentLocator;
    }

    /** Parses the region at {@code regionOffset}: the table first, then each item it lists. */
    static MetadataRegion parse(Path file, long regionOffset, long regionLength, RangeReader reader)
            throws IOException {
        if (regionLength < TABLE_SIZE) {
            throw new CorruptDiskException(file, regionOffset, "metadata region", "shorter than its 64 KiB table");
        }
        // The table has no checksum: read its header, then only the entries it says it has.
        StructReader header = new StructReader(
                file, regionOffset, reader.read(regionOffset, ENTRIES_AT), ByteOrder.LITTLE_ENDIAN, "metadata table");
        header.require(header.bits64(0, "Signature") == SIGNATURE, 0, "Signature", "not \"metadata\"");
        int count = header.u16(ENTRY_COUNT_AT, "EntryCount");
        header.require(
                count <= MAX_ENTRIES, ENTRY_COUNT_AT, "EntryCount", count + " entries (at most " + MAX_ENTRIES + ")");
        StructReader table = new StructReader(
                file,
                regionOffset,
                reader.read(regionOffset, ENTRIES_AT + count * ENTRY_SIZE),
                ByteOrder.LITTLE_ENDIAN,
                "metadata table");

        table.require(
                count <= MAX_ENTRIES, ENTRY_COUNT_AT, "EntryCount", count + " entries (at most " + MAX_ENTRIES + ")");
        List<Item> items = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        List<long[]> occupied = new ArrayList<>();
        int userItems = 0;
        for (int i = 0; i < count; i++) {
            int at = ENTRIES_AT + i * ENTRY_SIZE;
            UUID id = table.windowsGuid(at, "entry ItemId");
            long offset = table.u32(at + 16, "entry Offset");
            long length = table.u32(at + 20, "entry Length");
            long flags = table.u32(at + 24, "entry flags");
            boolean isUser = (flags & 1) != 0;
            table.require(seen.add(id + "/" + isUser), at, "entry ItemId", "item " + id + " appears twice");
            table.require(
                    length <= MAX_ITEM_LENGTH, at + 20, "entry Length", "item length " + length + " is over 1 MiB");
            if (length == 0) {
                table.require(offset == 0, at + 16, "entry Offset", "an empty item must have offset 0");
            } else {
                table.require(
                        offset >= TABLE_SIZE,
                        at + 16,
                        "entry Offset",
                        "item offset " + offset + " is inside the table");
                table.require(
                        offset + length <= regionLength,
                        at + 16,
                        "entry Offset",
                        "item [" + offset + ", +" + length + ") lies beyond the metadata region");
                for (long[] other : occupied) {
                    table.require(
                            offset + length <= other[0] || other[0] + other[1] <= offset,
                            at + 16,
                            "entry Offset",
                            "item " + id + " overlaps another item");
                }
                occupied.add(new long[] {offset, length});
            }
            if (isUser) {
                userItems++;
            }
            byte[] content = new byte[(int) length];
            if (length > 0) {
                reader.read(regionOffset + offset, (int) length).get(0, content);
            }
            items.add(new Item(id, isUser, (flags & 2) != 0, (flags & 4) != 0, content));
        }
        table.require(userItems <= 1024, ENTRY_COUNT_AT, "EntryCount", userItems + " user items (at most 1024)");
        return interpret(file, regionOffset, items);
    }

    private static MetadataRegion interpret(Path file, long regionOffset, List<Item> items)
            throws CorruptDiskException, UnsupportedDiskException {
        FileParameters parameters = null;
        Long size = null;
        UUID diskId = null;
        Integer logical = null;
        Integer physical = null;
        ParentLocator locator = null;
        for (Item item : items) {
            StructReader reader = new StructReader(
                    file, regionOffset, ByteBuffer.wrap(item.content), ByteOrder.LITTLE_ENDIAN, "metadata item");
            if (item.isUser) {
                continue;
            }
            if (item.id.equals(FILE_PARAMETERS)) {
                parameters = FileParameters.parse(reader);
            } else if (item.id.equals(VIRTUAL_DISK_SIZE)) {
                size = reader.u64(0, "VirtualDiskSize");
            } else if (item.id.equals(VIRTUAL_DISK_ID)) {
                diskId = reader.windowsGuid(0, "VirtualDiskId");
            } else if (item.id.equals(LOGICAL_SECTOR_SIZE)) {
                logical = sectorSize(reader, "LogicalSectorSize");
            } else if (item.id.equals(PHYSICAL_SECTOR_SIZE)) {
                physical = sectorSize(reader, "PhysicalSectorSize");
            } else if (item.id.equals(PARENT_LOCATOR)) {
                locator = ParentLocator.parse(file, reader);
            } else if (item.isRequired) {
                throw new UnsupportedDiskException(
                        file, "the file has a required metadata item " + item.id + " that chainmerge does not know");
            }
        }
        requirePresent(file, regionOffset, parameters, "File Parameters");
        requirePresent(file, regionOffset, size, "Virtual Disk Size");
        requirePresent(file, regionOffset, diskId, "Virtual Disk ID");
        requirePresent(file, regionOffset, logical, "Logical Sector Size");
        requirePresent(file, regionOffset, physical, "Physical Sector Size");
        if (parameters.hasParent()) {
            requirePresent(file, regionOffset, locator, "Parent Locator");
        }
        if (size == 0 || size % logical != 0 || size > Layout.MAX_VIRTUAL_SIZE) {
            throw new CorruptDiskException(
                    file,
                    regionOffset,
                    "metadata VirtualDiskSize",
                    "virtual size " + size + " is not a positive multiple of the " + logical
                            + "-byte sector up to 64 TiB");
        }
        return new MetadataRegion(
                items, parameters, size, diskId, logical, physical, parameters.hasParent() ? locator : null);
    }

    private static int sectorSize(StructReader reader, String field) throws CorruptDiskException {
        long value = reader.u32(0, field);
        reader.require(value == 512 || value == 4096, 0, field, "sector size " + value + " (must be 512 or 4096)");
        return (int) value;
    }

    private static void requirePresent(Path file, long regionOffset, Object value, String name)
            throws CorruptDiskException {
        if (value == null) {
            throw new CorruptDiskException(
                    file, regionOffset, "metadata table", "the required " + name + " item is missing");
        }
    }

    /** A new file's region: the known items with the flags MS-VHDX 2.6.2 gives them. */
    static MetadataRegion create(
            FileParameters parameters,
            long virtualDiskSize,
            UUID virtualDiskId,
            int logicalSectorSize,
            int physicalSectorSize,
            ParentLocator locator) {
        List<Item> items = new ArrayList<>();
        items.add(new Item(FILE_PARAMETERS, false, false, true, parameters.encode()));
        items.add(new Item(VIRTUAL_DISK_SIZE, false, true, true, u64(virtualDiskSize)));
        items.add(new Item(LOGICAL_SECTOR_SIZE, false, true, true, u32(logicalSectorSize)));
        items.add(new Item(PHYSICAL_SECTOR_SIZE, false, true, true, u32(physicalSectorSize)));
        items.add(new Item(VIRTUAL_DISK_ID, false, true, true, guid(virtualDiskId)));
        if (locator != null) {
            items.add(new Item(PARENT_LOCATOR, false, false, true, locator.encode()));
        }
        return new MetadataRegion(
                items, parameters, virtualDiskSize, virtualDiskId, logicalSectorSize, physicalSectorSize, locator);
    }

    MetadataRegion withParentLocator(ParentLocator locator) {
        return replace(PARENT_LOCATOR, locator.encode(), locator, virtualDiskId);
    }

    MetadataRegion withVirtualDiskId(UUID id) {
        return replace(VIRTUAL_DISK_ID, guid(id), parentLocator, id);
    }

    private MetadataRegion replace(UUID itemId, byte[] content, ParentLocator locator, UUID diskId) {
        List<Item> updated = new ArrayList<>();
        boolean found = false;
        for (Item item : items) {
            if (!item.isUser && item.id.equals(itemId)) {
                updated.add(item.withContent(content));
                found = true;
            } else {
                updated.add(item);
            }
        }
        if (!found) {
            throw new IllegalStateException("no metadata item " + itemId + " to replace");
        }
        return new MetadataRegion(
                updated, fileParameters, virtualDiskSize, diskId, logicalSectorSize, physicalSectorSize, locator);
    }

    /**
     * The region's bytes: the table, then the items packed from 64 KiB in table order. Only the pages
     * that differ from the file are written, through the log.
     */
    byte[] encode(long regionLength) {
        int total = TABLE_SIZE;
        for (Item item : items) {
            total += item.content.length;
        }
        if (total > regionLength) {
            throw new IllegalStateException(
                    "metadata items (" + total + " bytes) do not fit the region (" + regionLength + ")");
        }
        int length = (int) Math.min(
                regionLength, ((total + Layout.LOG_SECTOR - 1) / Layout.LOG_SECTOR) * (long) Layout.LOG_SECTOR);
        ByteBuffer raw = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        raw.putLong(0, SIGNATURE);
        raw.putShort(ENTRY_COUNT_AT, (short) items.size());
        int next = TABLE_SIZE;
        for (int i = 0; i < items.size(); i++) {
            Item item = items.get(i);
            int at = ENTRIES_AT + i * ENTRY_SIZE;
            Guids.writeWindows(raw, at, item.id);
            int length1 = item.content.length;
            raw.putInt(at + 16, length1 == 0 ? 0 : next);
            raw.putInt(at + 20, length1);
            raw.putInt(at + 24, (item.isUser ? 1 : 0) | (item.isVirtualDisk ? 2 : 0) | (item.isRequired ? 4 : 0));
            raw.put(next, item.content);
            next += length1;
        }
        return raw.array();
    }

    List<Item> items() {
        return items;
    }

    private static byte[] u64(long value) {
        return ByteBuffer.allocate(8)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(0, value)
                .array();
    }

    private static byte[] u32(int value) {
        return ByteBuffer.allocate(4)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0, value)
                .array();
    }

    private static byte[] guid(UUID value) {
        ByteBuffer raw = ByteBuffer.allocate(16);
        Guids.writeWindows(raw, 0, value);
        return raw.array();
    }
}
