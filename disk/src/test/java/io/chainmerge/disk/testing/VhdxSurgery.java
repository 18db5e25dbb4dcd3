package io.chainmerge.disk.testing;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Edits the bytes of a VHDX file to make it corrupt in one precise way. It finds structures by the
 * specification's rules on its own, without the engine's parsers, so a bug in the engine cannot hide
 * the field a test means to break. Checksums are left as they are unless a {@code fix...} method is
 * called, so a test chooses whether the engine meets a bad checksum or a bad field behind a good one.
 */
public final class VhdxSurgery implements Closeable {
    public static final long KIB = 1024;
    public static final long MIB = 1024 * KIB;
    public static final long HEADER1 = 64 * KIB;
    public static final long HEADER2 = 128 * KIB;
    public static final long REGION_TABLE1 = 192 * KIB;
    public static final long REGION_TABLE2 = 256 * KIB;
    public static final int HEADER_SIZE = 4096;
    public static final int REGION_TABLE_SIZE = 64 * 1024;

    public static final UUID BAT = UUID.fromString("2DC27766-F623-4200-9D64-115E9BFD4A08");
    public static final UUID METADATA = UUID.fromString("8B7CA206-4790-4B9A-B8FE-575F050F886E");
    public static final UUID FILE_PARAMETERS = UUID.fromString("CAA16737-FA36-4D43-B3B6-33F0AA44E76B");
    public static final UUID VIRTUAL_DISK_SIZE = UUID.fromString("2FA54224-CD1B-4876-B211-5DBED83BF4B8");
    public static final UUID VIRTUAL_DISK_ID = UUID.fromString("BECA12AB-B2E6-4523-93EF-C309E000C746");
    public static final UUID LOGICAL_SECTOR_SIZE = UUID.fromString("8141BF1D-A96F-4709-BA47-F233A8FAAB5F");
    public static final UUID PHYSICAL_SECTOR_SIZE = UUID.fromString("CDA348C7-445D-4471-9CC9-E9885251C556");
    public static final UUID PARENT_LOCATOR = UUID.fromString("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C");

    private final FileChannel channel;

    private VhdxSurgery(FileChannel channel) {
        this.channel = channel;
    }

    public static VhdxSurgery open(Path file) throws IOException {
        return new VhdxSurgery(FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE));
    }

    // ---------------------------------------------------------------------------------------------
    // Raw access

    public long size() throws IOException {
        return channel.size();
    }

    public byte[] get(long at, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, at + buffer.position()) < 0) {
                break; // past the end: zeros
            }
        }
        return buffer.array();
    }

    public long u16(long at) throws IOException {
        return le(at, 2).getShort(0) & 0xffffL;
    }

    public long u32(long at) throws IOException {
        return le(at, 4).getInt(0) & 0xffffffffL;
    }

    public long u64(long at) throws IOException {
        return le(at, 8).getLong(0);
    }

    public UUID guid(long at) throws IOException {
        ByteBuffer raw = le(at, 16);
        long data1 = raw.getInt(0) & 0xffffffffL;
        long data2 = raw.getShort(4) & 0xffffL;
        long data3 = raw.getShort(6) & 0xffffL;
        long data4 = raw.order(ByteOrder.BIG_ENDIAN).getLong(8);
        return new UUID((data1 << 32) | (data2 << 16) | data3, data4);
    }

    public VhdxSurgery put(long at, byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer, at + buffer.position());
        }
        return this;
    }

    public VhdxSurgery putU16(long at, long value) throws IOException {
        return put(
                at,
                ByteBuffer.allocate(2)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putShort(0, (short) value)
                        .array());
    }

    public VhdxSurgery putU32(long at, long value) throws IOException {
        return put(
                at,
                ByteBuffer.allocate(4)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putInt(0, (int) value)
                        .array());
    }

    public VhdxSurgery putU64(long at, long value) throws IOException {
        return put(
                at,
                ByteBuffer.allocate(8)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(0, value)
                        .array());
    }

    public VhdxSurgery putGuid(long at, UUID guid) throws IOException {
        ByteBuffer raw = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        long msb = guid.getMostSignificantBits();
        raw.putInt(0, (int) (msb >>> 32));
        raw.putShort(4, (short) (msb >>> 16));
        raw.putShort(6, (short) msb);
        raw.order(ByteOrder.BIG_ENDIAN).putLong(8, guid.getLeastSignificantBits());
        return put(at, raw.array());
    }

    public VhdxSurgery putAscii(long at, String text) throws IOException {
        return put(at, text.getBytes(StandardCharsets.US_ASCII));
    }

    /** Inverts the bits of one byte. */
    public VhdxSurgery flip(long at) throws IOException {
        byte[] one = get(at, 1);
        one[0] = (byte) ~one[0];
        return put(at, one);
    }

    public VhdxSurgery truncate(long size) throws IOException {
        channel.truncate(size);
        return this;
    }

    /** Appends {@code length} zero bytes; returns the offset they start at. */
    public long append(long length) throws IOException {
        long at = channel.size();
        put(at + length - 1, new byte[1]);
        return at;
    }

    private ByteBuffer le(long at, int length) throws IOException {
        return ByteBuffer.wrap(get(at, length)).order(ByteOrder.LITTLE_ENDIAN);
    }

    // ---------------------------------------------------------------------------------------------
    // Checksums (CRC-32C over the structure with its checksum field taken as zero)

    public static long crc32c(byte[] structure, int checksumAt) {
        byte[] copy = structure.clone();
        for (int i = 0; i < 4; i++) {
            copy[checksumAt + i] = 0;
        }
        CRC32C crc = new CRC32C();
        crc.update(copy);
        return crc.getValue();
    }

    private boolean checksumHolds(long at, int length) throws IOException {
        return crc32c(get(at, length), 4) == u32(at + 4);
    }

    private VhdxSurgery fixChecksum(long at, int length) throws IOException {
        return putU32(at + 4, crc32c(get(at, length), 4));
    }

    public VhdxSurgery fixHeader(long header) throws IOException {
        return fixChecksum(header, HEADER_SIZE);
    }

    public VhdxSurgery fixRegionTable(long table) throws IOException {
        return fixChecksum(table, REGION_TABLE_SIZE);
    }

    /** Recomputes the checksum of the log entry starting at file offset {@code entry}. */
    public VhdxSurgery fixLogEntry(long entry) throws IOException {
        return fixChecksum(entry, (int) u32(entry + 8));
    }

    // ---------------------------------------------------------------------------------------------
    // Headers

    public boolean headerValid(long header) throws IOException {
        return u32(header) == 0x64616568L && checksumHolds(header, HEADER_SIZE);
    }

    /** The header a reader uses: the valid one with the greater sequence number. */
    public long currentHeader() throws IOException {
        boolean first = headerValid(HEADER1);
        boolean second = headerValid(HEADER2);
        if (first && second) {
            return Long.compareUnsigned(u64(HEADER1 + 8), u64(HEADER2 + 8)) > 0 ? HEADER1 : HEADER2;
        }
        if (!first && !second) {
            throw new IllegalStateException("no valid header");
        }
        return first ? HEADER1 : HEADER2;
    }

    public long otherHeader() throws IOException {
        return currentHeader() == HEADER1 ? HEADER2 : HEADER1;
    }

    /** Sets a u64 field of both headers, keeping them valid. */
    public VhdxSurgery setBothHeadersU64(int field, long value) throws IOException {
        for (long header : List.of(HEADER1, HEADER2)) {
            putU64(header + field, value);
            fixHeader(header);
        }
        return this;
    }

    public long logOffset() throws IOException {
        return u64(currentHeader() + 72);
    }

    public long logLength() throws IOException {
        return u32(currentHeader() + 68);
    }

    public UUID logGuid() throws IOException {
        return guid(currentHeader() + 48);
    }

    // ---------------------------------------------------------------------------------------------
    // Region table

    /** The file offset of the entry of {@code region} in {@code table}. */
    public long regionEntry(long table, UUID region) throws IOException {
        long count = u32(table + 8);
        for (int i = 0; i < count && i < 2047; i++) {
            long at = table + 16 + i * 32L;
            if (guid(at).equals(region)) {
                return at;
            }
        }
        throw new IllegalStateException("no region " + region + " in the table at " + table);
    }

    public long regionOffset(UUID region) throws IOException {
        return u64(regionEntry(REGION_TABLE1, region) + 16);
    }

    public long regionLength(UUID region) throws IOException {
        return u32(regionEntry(REGION_TABLE1, region) + 24);
    }

    /** Applies {@code edit} to both copies of the region table, then fixes both checksums. */
    public VhdxSurgery editBothRegionTables(TableEdit edit) throws IOException {
        for (long table : List.of(REGION_TABLE1, REGION_TABLE2)) {
            edit.apply(this, table);
            fixRegionTable(table);
        }
        return this;
    }

    @FunctionalInterface
    public interface TableEdit {
        void apply(VhdxSurgery file, long table) throws IOException;
    }

    // ---------------------------------------------------------------------------------------------
    // Metadata region

    public long metadataOffset() throws IOException {
        return regionOffset(METADATA);
    }

    /** The file offset of the metadata table entry of {@code item}. */
    public long metadataEntry(UUID item) throws IOException {
        long table = metadataOffset();
        long count = u16(table + 10);
        for (int i = 0; i < count; i++) {
            long at = table + 32 + i * 32L;
            if (guid(at).equals(item)) {
                return at;
            }
        }
        throw new IllegalStateException("no metadata item " + item);
    }

    /** The file offset of {@code item}'s content. */
    public long metadataItem(UUID item) throws IOException {
        return metadataOffset() + u32(metadataEntry(item) + 16);
    }

    public long metadataItemLength(UUID item) throws IOException {
        return u32(metadataEntry(item) + 20);
    }

    /** Adds an entry at the end of the metadata table; returns its file offset. */
    public long addMetadataEntry(UUID item, long offset, long length, long flags) throws IOException {
        long table = metadataOffset();
        long count = u16(table + 10);
        long at = table + 32 + count * 32;
        putGuid(at, item).putU32(at + 16, offset).putU32(at + 20, length).putU32(at + 24, flags);
        putU16(table + 10, count + 1);
        return at;
    }

    // ---------------------------------------------------------------------------------------------
    // Parent locator

    /** One key/value entry of the parent locator, as file offsets. */
    public record LocatorEntry(long entry, long key, long value, int keyLength, int valueLength) {}

    public Map<String, LocatorEntry> locatorEntries() throws IOException {
        long item = metadataItem(PARENT_LOCATOR);
        long count = u16(item + 18);
        Map<String, LocatorEntry> entries = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            long at = item + 20 + i * 12L;
            long key = item + u32(at);
            long value = item + u32(at + 4);
            int keyLength = (int) u16(at + 8);
            int valueLength = (int) u16(at + 10);
            String name = new String(get(key, keyLength), StandardCharsets.UTF_16LE);
            entries.put(name, new LocatorEntry(at, key, value, keyLength, valueLength));
        }
        return entries;
    }

    public LocatorEntry locatorEntry(String key) throws IOException {
        LocatorEntry entry = locatorEntries().get(key);
        if (entry == null) {
            throw new IllegalStateException("no parent locator key " + key);
        }
        return entry;
    }

    // ---------------------------------------------------------------------------------------------
    // BAT

    public long batOffset() throws IOException {
        return regionOffset(BAT);
    }

    public long batEntry(long index) throws IOException {
        return u64(batOffset() + index * 8);
    }

    public VhdxSurgery setBatEntry(long index, long value) throws IOException {
        return putU64(batOffset() + index * 8, value);
    }

    /** The indexes of entries holding {@code state}, among the first {@code limit}. */
    public List<Long> batEntriesInState(int state, long limit) throws IOException {
        List<Long> found = new ArrayList<>();
        long entries = Math.min(limit, regionLength(BAT) / 8);
        for (long i = 0; i < entries; i++) {
            if ((batEntry(i) & 7) == state) {
                found.add(i);
            }
        }
        return found;
    }

    public static long batEntry(int state, long fileOffset) {
        return (fileOffset / MIB) << 20 | state;
    }

    // ---------------------------------------------------------------------------------------------
    // Log

    /** File offsets of the log entries that carry the header's LogGuid, in log order. */
    public List<Long> logEntries() throws IOException {
        List<Long> found = new ArrayList<>();
        long log = logOffset();
        long length = logLength();
        UUID guid = logGuid();
        for (long at = log; at < log + length; at += 4096) {
            if (u32(at) == 0x65676F6CL && guid(at + 32).equals(guid)) {
                found.add(at);
            }
        }
        return found;
    }

    /** Closes without flushing: the engine reads the edits through the same page cache. */
    @Override
    public void close() throws IOException {
        channel.close();
    }
}
