package io.chainmerge.disk.vhd;

import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.DiskType;
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
 * The hard disk footer (VHD spec, "Hard Disk Footer Format"): 512 big-endian bytes at the end of every
 * VHD file; dynamic and differencing disks keep an identical copy at offset 0.
 *
 * @param dataOffset the dynamic disk header's offset, all ones in a fixed disk (raw bits)
 * @param timeStamp when the disk was created, in {@link VhdTime} seconds
 * @param diskType 2 fixed, 3 dynamic, 4 differencing (raw, checked by {@link #check})
 */
record VhdFooter(
        int features,
        long formatVersion,
        long dataOffset,
        long timeStamp,
        String creatorApplication,
        long creatorVersion,
        String creatorHostOs,
        long originalSize,
        long currentSize,
        DiskGeometry diskGeometry,
        int diskType,
        UUID uniqueId,
        int savedState) {

    static final int SIZE = 512;
    static final byte[] COOKIE = "conectix".getBytes(StandardCharsets.US_ASCII);
    static final long FORMAT_VERSION = 0x0001_0000L;
    /** Bit 1 of Features: "reserved, must always be set". */
    static final int FEATURES_RESERVED = 0x2;

    static final int FIXED = 2;
    static final int DYNAMIC = 3;
    static final int DIFFERENCING = 4;

    static final int COOKIE_AT = 0;
    static final int FEATURES_AT = 8;
    static final int FORMAT_VERSION_AT = 12;
    static final int DATA_OFFSET_AT = 16;
    static final int TIME_STAMP_AT = 24;
    static final int CREATOR_APPLICATION_AT = 28;
    static final int CREATOR_VERSION_AT = 32;
    static final int CREATOR_HOST_OS_AT = 36;
    static final int ORIGINAL_SIZE_AT = 40;
    static final int CURRENT_SIZE_AT = 48;
    static final int DISK_GEOMETRY_AT = 56;
    static final int DISK_TYPE_AT = 60;
    static final int CHECKSUM_AT = 64;
    static final int UNIQUE_ID_AT = 68;
    static final int SAVED_STATE_AT = 84;

    /**
     * Reads a footer; fails unless the cookie and the checksum are right (the footer is valid). The
     * fields' meaning is checked by {@link #check}, once this is the footer the disk is read from.
     */
    static VhdFooter parse(Path file, long offset, ByteBuffer raw, String structure) throws CorruptDiskException {
        StructReader reader = new StructReader(file, offset, raw, ByteOrder.BIG_ENDIAN, structure);
        reader.require(
                Arrays.equals(reader.bytes(COOKIE_AT, COOKIE.length, "Cookie"), COOKIE),
                COOKIE_AT,
                "Cookie",
                "not \"conectix\"");
        long stored = reader.u32(CHECKSUM_AT, "Checksum");
        long computed = Checksum.of(raw, CHECKSUM_AT);
        reader.require(
                stored == computed,
                CHECKSUM_AT,
                "Checksum",
                "the bytes sum to checksum 0x%08x, the footer holds 0x%08x".formatted(computed, stored));
        return new VhdFooter(
                (int) reader.u32(FEATURES_AT, "Features"),
                reader.u32(FORMAT_VERSION_AT, "File Format Version"),
                reader.bits64(DATA_OFFSET_AT, "Data Offset"),
                reader.u32(TIME_STAMP_AT, "Time Stamp"),
                ascii(reader.bytes(CREATOR_APPLICATION_AT, 4, "Creator Application")),
                reader.u32(CREATOR_VERSION_AT, "Creator Version"),
                ascii(reader.bytes(CREATOR_HOST_OS_AT, 4, "Creator Host OS")),
                reader.bits64(ORIGINAL_SIZE_AT, "Original Size"),
                reader.bits64(CURRENT_SIZE_AT, "Current Size"),
                DiskGeometry.decode(reader.u32(DISK_GEOMETRY_AT, "Disk Geometry")),
                (int) reader.u32(DISK_TYPE_AT, "Disk Type"),
                reader.bigEndianUuid(UNIQUE_ID_AT, "Unique Id"),
                reader.u8(SAVED_STATE_AT, "Saved State"));
    }

    /** Checks the fields a reader depends on: the version, the disk type and the size. */
    void check(Path file, long offset) throws CorruptDiskException, UnsupportedDiskException {
        if (formatVersion >>> 16 != FORMAT_VERSION >>> 16) {
            throw new UnsupportedDiskException(
                    file,
                    "VHD file format version %d.%d (only 1.x is defined)"
                            .formatted(formatVersion >>> 16, formatVersion & 0xffff));
        }
        switch (diskType) {
            case FIXED, DYNAMIC, DIFFERENCING -> {}
            case 0, 1, 5, 6 ->
                throw new UnsupportedDiskException(
                        file,
                        "disk type " + diskType
                                + " is none or deprecated (VHD spec): only fixed, dynamic and differencing disks hold data");
            default ->
                throw new CorruptDiskException(
                        file,
                        offset + DISK_TYPE_AT,
                        "footer Disk Type",
                        "unknown disk type " + Integer.toUnsignedString(diskType));
        }
        if (currentSize <= 0 || currentSize % VhdFile.SECTOR_SIZE != 0 || currentSize > VhdFile.MAX_VIRTUAL_SIZE) {
            throw new CorruptDiskException(
                    file,
                    offset + CURRENT_SIZE_AT,
                    "footer Current Size",
                    "size " + Long.toUnsignedString(currentSize)
                            + " is not a positive multiple of 512 up to 2 TiB, the most a VHD addresses");
        }
    }

    DiskType type() {
        return switch (diskType) {
            case FIXED -> DiskType.FIXED;
            case DYNAMIC -> DiskType.DYNAMIC;
            case DIFFERENCING -> DiskType.DIFFERENCING;
            default -> throw new IllegalStateException("disk type " + diskType + " was not checked");
        };
    }

    boolean inSavedState() {
        return savedState != 0;
    }

    /** The names of the fields in which {@code other} differs from this footer. */
    List<String> differencesFrom(VhdFooter other) {
        List<String> fields = new ArrayList<>();
        compare(fields, "Features", features, other.features);
        compare(fields, "File Format Version", formatVersion, other.formatVersion);
        compare(fields, "Data Offset", dataOffset, other.dataOffset);
        compare(fields, "Time Stamp", timeStamp, other.timeStamp);
        compare(fields, "Creator Application", creatorApplication, other.creatorApplication);
        compare(fields, "Creator Version", creatorVersion, other.creatorVersion);
        compare(fields, "Creator Host OS", creatorHostOs, other.creatorHostOs);
        compare(fields, "Original Size", originalSize, other.originalSize);
        compare(fields, "Current Size", currentSize, other.currentSize);
        compare(fields, "Disk Geometry", diskGeometry, other.diskGeometry);
        compare(fields, "Disk Type", diskType, other.diskType);
        compare(fields, "Unique Id", uniqueId, other.uniqueId);
        compare(fields, "Saved State", savedState, other.savedState);
        return fields;
    }

    private static void compare(List<String> fields, String name, Object mine, Object theirs) {
        if (!mine.equals(theirs)) {
            fields.add(name);
        }
    }

    ByteBuffer encode() {
        return encodeOver(new byte[SIZE]);
    }

    /**
     * The footer over the bytes of the one read from the file: the reserved bytes after Saved State keep
     * what another producer stored there (blktap keeps its "hidden" flag at 0x55), since the
     * specification gives them to no one and chainmerge owns only the fields it defines.
     */
    ByteBuffer encodeOver(byte[] original) {
        ByteBuffer raw = ByteBuffer.wrap(Arrays.copyOf(original, SIZE)).order(ByteOrder.BIG_ENDIAN);
        raw.put(COOKIE_AT, COOKIE);
        raw.putInt(FEATURES_AT, features);
        raw.putInt(FORMAT_VERSION_AT, (int) formatVersion);
        raw.putLong(DATA_OFFSET_AT, dataOffset);
        raw.putInt(TIME_STAMP_AT, (int) timeStamp);
        raw.put(CREATOR_APPLICATION_AT, creatorApplication.getBytes(StandardCharsets.ISO_8859_1));
        raw.putInt(CREATOR_VERSION_AT, (int) creatorVersion);
        raw.put(CREATOR_HOST_OS_AT, creatorHostOs.getBytes(StandardCharsets.ISO_8859_1));
        raw.putLong(ORIGINAL_SIZE_AT, originalSize);
        raw.putLong(CURRENT_SIZE_AT, currentSize);
        raw.putInt(DISK_GEOMETRY_AT, diskGeometry.encode());
        raw.putInt(DISK_TYPE_AT, diskType);
        raw.putLong(UNIQUE_ID_AT, uniqueId.getMostSignificantBits());
        raw.putLong(UNIQUE_ID_AT + 8, uniqueId.getLeastSignificantBits());
        raw.put(SAVED_STATE_AT, (byte) savedState);
        raw.putInt(CHECKSUM_AT, (int) Checksum.of(raw, CHECKSUM_AT));
        return raw;
    }

    private static String ascii(byte[] raw) {
        return new String(raw, StandardCharsets.ISO_8859_1);
    }
}
