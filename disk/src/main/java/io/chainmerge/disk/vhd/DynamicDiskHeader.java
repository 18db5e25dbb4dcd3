package io.chainmerge.disk.vhd;

import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.UnsupportedDiskException;
import io.chainmerge.disk.io.StructReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * The dynamic disk header (VHD spec, "Dynamic Disk Header Format"): 1024 big-endian bytes at the
 * footer's Data Offset in dynamic and differencing disks, locating the BAT and, in a differencing disk,
 * describing the parent.
 *
 * @param dataOffset unused by the format, all ones (raw bits)
 * @param tableOffset the BAT's offset (raw bits, checked against the file by the caller)
 * @param parentTimeStamp the parent's modification time in {@link VhdTime} seconds; 0 when not recorded
 * @param parentUnicodeName the parent's file name or path, UTF-16 big-endian in the file
 * @param parentLocatorEntries all eight entries, unused ones included, in file order
 */
record DynamicDiskHeader(
        long dataOffset,
        long tableOffset,
        long headerVersion,
        long maxTableEntries,
        long blockSize,
        UUID parentUniqueId,
        long parentTimeStamp,
        String parentUnicodeName,
        List<ParentLocatorEntry> parentLocatorEntries) {

    static final int SIZE = 1024;
    static final byte[] COOKIE = "cxsparse".getBytes(StandardCharsets.US_ASCII);
    static final long HEADER_VERSION = 0x0001_0000L;
    static final int LOCATOR_ENTRIES = 8;
    /** The UTF-16 code units the 512-byte name holds with a terminating NUL. */
    static final int MAX_NAME_LENGTH = 255;
    /** Larger blocks than any product makes; a block's bitmap and data are handled in memory. */
    static final int MAX_BLOCK_SIZE = 256 << 20;
    /** 16 Mi entries (64 MiB): a 2 TiB disk of 128 KiB blocks. The BAT is held in memory. */
    static final long MAX_TABLE_ENTRIES = 1L << 24;

    static final int COOKIE_AT = 0;
    static final int DATA_OFFSET_AT = 8;
    static final int TABLE_OFFSET_AT = 16;
    static final int HEADER_VERSION_AT = 24;
    static final int MAX_TABLE_ENTRIES_AT = 28;
    static final int BLOCK_SIZE_AT = 32;
    static final int CHECKSUM_AT = 36;
    static final int PARENT_UNIQUE_ID_AT = 40;
    static final int PARENT_TIME_STAMP_AT = 56;
    static final int PARENT_UNICODE_NAME_AT = 64;
    static final int PARENT_UNICODE_NAME_SIZE = 512;
    static final int PARENT_LOCATOR_ENTRIES_AT = 576;

    /** Reads a header; fails unless the cookie and the checksum are right. */
    static DynamicDiskHeader parse(Path file, long offset, ByteBuffer raw) throws CorruptDiskException {
        StructReader reader = new StructReader(file, offset, raw, ByteOrder.BIG_ENDIAN, "dynamic disk header");
        reader.require(
                Arrays.equals(reader.bytes(COOKIE_AT, COOKIE.length, "Cookie"), COOKIE),
                COOKIE_AT,
                "Cookie",
                "not \"cxsparse\"");
        long stored = reader.u32(CHECKSUM_AT, "Checksum");
        long computed = Checksum.of(raw, CHECKSUM_AT);
        reader.require(
                stored == computed,
                CHECKSUM_AT,
                "Checksum",
                "the bytes sum to checksum 0x%08x, the header holds 0x%08x".formatted(computed, stored));
        List<ParentLocatorEntry> entries = new ArrayList<>();
        for (int i = 0; i < LOCATOR_ENTRIES; i++) {
            entries.add(ParentLocatorEntry.parse(reader, PARENT_LOCATOR_ENTRIES_AT + i * ParentLocatorEntry.SIZE));
        }
        return new DynamicDiskHeader(
                reader.bits64(DATA_OFFSET_AT, "Data Offset"),
                reader.bits64(TABLE_OFFSET_AT, "Table Offset"),
                reader.u32(HEADER_VERSION_AT, "Header Version"),
                reader.u32(MAX_TABLE_ENTRIES_AT, "Max Table Entries"),
                reader.u32(BLOCK_SIZE_AT, "Block Size"),
                reader.bigEndianUuid(PARENT_UNIQUE_ID_AT, "Parent Unique ID"),
                reader.u32(PARENT_TIME_STAMP_AT, "Parent Time Stamp"),
                unicodeName(reader.bytes(PARENT_UNICODE_NAME_AT, PARENT_UNICODE_NAME_SIZE, "Parent Unicode Name")),
                entries);
    }

    /**
     * Checks the version, the block size and that the BAT has an entry for every block of a disk of
     * {@code virtualSize} bytes, and no absurd number more.
     */
    void check(Path file, long offset, long virtualSize) throws CorruptDiskException, UnsupportedDiskException {
        if (headerVersion >>> 16 != HEADER_VERSION >>> 16) {
            throw new UnsupportedDiskException(
                    file,
                    "dynamic disk header version %d.%d (only 1.x is defined)"
                            .formatted(headerVersion >>> 16, headerVersion & 0xffff));
        }
        if (blockSize < VhdFile.SECTOR_SIZE || Long.bitCount(blockSize) != 1) {
            throw new CorruptDiskException(
                    file,
                    offset + BLOCK_SIZE_AT,
                    "dynamic disk header Block Size",
                    "block size " + blockSize + " is not a power-of-two multiple of the 512-byte sector");
        }
        if (blockSize > MAX_BLOCK_SIZE) {
            throw new UnsupportedDiskException(
                    file, "block size " + blockSize + ": chainmerge reads VHD blocks up to 256 MiB");
        }
        long needed = (virtualSize + blockSize - 1) / blockSize;
        if (maxTableEntries < needed) {
            throw new CorruptDiskException(
                    file,
                    offset + MAX_TABLE_ENTRIES_AT,
                    "dynamic disk header Max Table Entries",
                    "the BAT has %d entries, a disk of %d bytes in %d-byte blocks needs %d"
                            .formatted(maxTableEntries, virtualSize, blockSize, needed));
        }
        if (maxTableEntries > MAX_TABLE_ENTRIES) {
            throw new CorruptDiskException(
                    file,
                    offset + MAX_TABLE_ENTRIES_AT,
                    "dynamic disk header Max Table Entries",
                    "%d entries for a disk that needs %d: beyond the %d chainmerge reads"
                            .formatted(maxTableEntries, needed, MAX_TABLE_ENTRIES));
        }
    }

    int blockSizeInt() {
        return (int) blockSize;
    }

    /** This header recording another parent: its identity, time stamp, name and locator entries. */
    DynamicDiskHeader withParent(UUID uniqueId, long timeStamp, String unicodeName, List<ParentLocatorEntry> entries) {
        return new DynamicDiskHeader(
                dataOffset,
                tableOffset,
                headerVersion,
                maxTableEntries,
                blockSize,
                uniqueId,
                timeStamp,
                unicodeName,
                entries);
    }

    ByteBuffer encode() {
        return encodeOver(new byte[SIZE]);
    }

    /**
     * The header over the bytes of the one read from the file: the two reserved areas (4 bytes after
     * Parent Time Stamp, 256 at the end) and each locator entry's reserved word keep what another
     * producer stored there; the specification gives them to no one.
     */
    ByteBuffer encodeOver(byte[] original) {
        ByteBuffer raw = ByteBuffer.wrap(Arrays.copyOf(original, SIZE)).order(ByteOrder.BIG_ENDIAN);
        Arrays.fill(raw.array(), PARENT_UNICODE_NAME_AT, PARENT_UNICODE_NAME_AT + PARENT_UNICODE_NAME_SIZE, (byte) 0);
        raw.put(COOKIE_AT, COOKIE);
        raw.putLong(DATA_OFFSET_AT, dataOffset);
        raw.putLong(TABLE_OFFSET_AT, tableOffset);
        raw.putInt(HEADER_VERSION_AT, (int) headerVersion);
        raw.putInt(MAX_TABLE_ENTRIES_AT, (int) maxTableEntries);
        raw.putInt(BLOCK_SIZE_AT, (int) blockSize);
        raw.putLong(PARENT_UNIQUE_ID_AT, parentUniqueId.getMostSignificantBits());
        raw.putLong(PARENT_UNIQUE_ID_AT + 8, parentUniqueId.getLeastSignificantBits());
        raw.putInt(PARENT_TIME_STAMP_AT, (int) parentTimeStamp);
        byte[] name = parentUnicodeName.getBytes(StandardCharsets.UTF_16BE);
        if (name.length > PARENT_UNICODE_NAME_SIZE - 2) {
            throw new IllegalArgumentException("parent unicode name longer than 255 UTF-16 code units");
        }
        raw.put(PARENT_UNICODE_NAME_AT, name);
        for (int i = 0; i < LOCATOR_ENTRIES; i++) {
            parentLocatorEntries.get(i).encode(raw, PARENT_LOCATOR_ENTRIES_AT + i * ParentLocatorEntry.SIZE);
        }
        raw.putInt(CHECKSUM_AT, (int) Checksum.of(raw, CHECKSUM_AT));
        return raw;
    }

    /** The name up to its first NUL code unit (UTF-16 big-endian, VHD spec and libvhdi). */
    private static String unicodeName(byte[] raw) {
        int length = 0;
        while (length + 1 < raw.length && (raw[length] != 0 || raw[length + 1] != 0)) {
            length += 2;
        }
        return new String(raw, 0, length, StandardCharsets.UTF_16BE);
    }
}
