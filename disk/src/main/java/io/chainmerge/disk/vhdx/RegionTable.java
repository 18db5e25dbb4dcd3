package io.chainmerge.disk.vhdx;

import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.UnsupportedDiskException;
import io.chainmerge.disk.io.Guids;
import io.chainmerge.disk.io.StructReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/** The region table (MS-VHDX 2.2.3): a 64 KiB structure at 192 KiB, with a copy at 256 KiB. */
record RegionTable(List<RegionEntry> entries) {

    static final long OFFSET1 = 192 * Layout.KIB;
    static final long OFFSET2 = 256 * Layout.KIB;
    static final int SIZE = 64 * 1024;
    static final UUID BAT = UUID.fromString("2DC27766-F623-4200-9D64-115E9BFD4A08");
    static final UUID METADATA = UUID.fromString("8B7CA206-4790-4B9A-B8FE-575F050F886E");

    private static final int SIGNATURE = 0x69676572; // "regi"
    private static final int SIGNATURE_AT = 0;
    private static final int CHECKSUM_AT = 4;
    private static final int ENTRY_COUNT_AT = 8;
    private static final int ENTRIES_AT = 16;
    private static final int ENTRY_SIZE = 32;
    private static final int MAX_ENTRIES = 2047;

    record RegionEntry(UUID guid, long fileOffset, long length, boolean required) {
        long end() {
            return fileOffset + length;
        }
    }

    RegionTable {
        entries = List.copyOf(entries);
    }

    /** Parses one copy; throws when its signature, checksum or entries are invalid. */
    static RegionTable parse(Path file, long offset, ByteBuffer raw) throws CorruptDiskException {
        StructReader reader = new StructReader(file, offset, raw, ByteOrder.LITTLE_ENDIAN, "region table");
        reader.require(reader.u32(SIGNATURE_AT, "Signature") == SIGNATURE, SIGNATURE_AT, "Signature", "not \"regi\"");
        Checksums.requireValid(reader, raw, CHECKSUM_AT, "table");

        long count = reader.u32(ENTRY_COUNT_AT, "EntryCount");
        reader.require(
                count <= MAX_ENTRIES, ENTRY_COUNT_AT, "EntryCount", count + " entries (at most " + MAX_ENTRIES + ")");
        List<RegionEntry> entries = new ArrayList<>();
        Set<UUID> seen = new HashSet<>();
        for (int i = 0; i < count; i++) {
            int at = ENTRIES_AT + i * ENTRY_SIZE;
            UUID guid = reader.windowsGuid(at, "entry Guid");
            long fileOffset = reader.u64(at + 16, "entry FileOffset");
            long length = reader.u32(at + 24, "entry Length");
            long required = reader.u32(at + 28, "entry Required");
            reader.require(seen.add(guid), at, "entry Guid", "region " + guid + " appears twice");
            reader.require(
                    fileOffset % Layout.MIB == 0 && fileOffset >= Layout.MIB,
                    at + 16,
                    "entry FileOffset",
                    "region offset " + fileOffset + " is not a 1 MiB multiple after the header section");
            reader.require(
                    length % Layout.MIB == 0 && length > 0,
                    at + 24,
                    "entry Length",
                    "region length " + length + " is not a positive 1 MiB multiple");
            entries.add(new RegionEntry(guid, fileOffset, length, (required & 1) != 0));
        }
        return new RegionTable(entries);
    }

    /** Checks the regions against the file and each other; refuses unknown required regions. */
    void validate(Path file, long fileSize, long logOffset, long logLength)
            throws CorruptDiskException, UnsupportedDiskException {
        for (RegionEntry entry : entries) {
            if (!entry.guid.equals(BAT) && !entry.guid.equals(METADATA) && entry.required) {
                throw new UnsupportedDiskException(
                        file,
                        "the file has a required region " + entry.guid
                                + " that chainmerge does not know; it must not be opened");
            }
            if (entry.end() > fileSize) {
                throw new CorruptDiskException(
                        file,
                        entry.fileOffset,
                        "region " + entry.guid,
                        "the file is truncated: the region ends at " + entry.end() + ", the file at " + fileSize);
            }
            if (entry.fileOffset < logOffset + logLength && logOffset < entry.end()) {
                throw new CorruptDiskException(
                        file, entry.fileOffset, "region " + entry.guid, "the region overlaps the log");
            }
            for (RegionEntry other : entries) {
                if (other != entry && entry.fileOffset < other.end() && other.fileOffset < entry.end()) {
                    throw new CorruptDiskException(
                            file, entry.fileOffset, "region " + entry.guid, "the region overlaps region " + other.guid);
                }
            }
        }
        require(file, BAT);
        require(file, METADATA);
    }

    private void require(Path file, UUID guid) throws CorruptDiskException {
        if (find(guid) == null) {
            throw new CorruptDiskException(
                    file,
                    OFFSET1,
                    "region table",
                    "the " + (guid.equals(BAT) ? "BAT" : "metadata") + " region is missing");
        }
    }

    RegionEntry find(UUID guid) {
        for (RegionEntry entry : entries) {
            if (entry.guid.equals(guid)) {
                return entry;
            }
        }
        return null;
    }

    ByteBuffer encode() {
        ByteBuffer raw = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        raw.putInt(SIGNATURE_AT, SIGNATURE);
        raw.putInt(ENTRY_COUNT_AT, entries.size());
        for (int i = 0; i < entries.size(); i++) {
            RegionEntry entry = entries.get(i);
            int at = ENTRIES_AT + i * ENTRY_SIZE;
            Guids.writeWindows(raw, at, entry.guid);
            raw.putLong(at + 16, entry.fileOffset);
            raw.putInt(at + 24, (int) entry.length);
            raw.putInt(at + 28, entry.required ? 1 : 0);
        }
        raw.putInt(CHECKSUM_AT, (int) Checksums.crc32c(raw, CHECKSUM_AT));
        return raw;
    }
}
