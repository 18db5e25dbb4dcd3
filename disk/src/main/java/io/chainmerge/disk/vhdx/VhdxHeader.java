package io.chainmerge.disk.vhdx;

import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.io.Guids;
import io.chainmerge.disk.io.StructReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.UUID;

/** One of the two VHDX headers (MS-VHDX 2.2.2): a 4 KiB structure at 64 KiB or 128 KiB. */
public record VhdxHeader(
        long sequenceNumber,
        UUID fileWriteGuid,
        UUID dataWriteGuid,
        UUID logGuid,
        int logVersion,
        int version,
        long logLength,
        long logOffset) {

    public static final int SIZE = 4096;
    public static final long HEADER1_OFFSET = 64 * 1024;
    public static final long HEADER2_OFFSET = 128 * 1024;
    static final int SIGNATURE = 0x64616568; // "head"

    private static final int SIGNATURE_AT = 0;
    private static final int CHECKSUM_AT = 4;
    private static final int SEQUENCE_NUMBER_AT = 8;
    private static final int FILE_WRITE_GUID_AT = 16;
    private static final int DATA_WRITE_GUID_AT = 32;
    private static final int LOG_GUID_AT = 48;
    private static final int LOG_VERSION_AT = 64;
    private static final int VERSION_AT = 66;
    private static final int LOG_LENGTH_AT = 68;
    private static final int LOG_OFFSET_AT = 72;

    /** Parses a header; throws when its signature or checksum is wrong (the header is not valid). */
    static VhdxHeader parse(Path file, long offset, ByteBuffer raw) throws CorruptDiskException {
        StructReader reader = new StructReader(file, offset, raw, ByteOrder.LITTLE_ENDIAN, "header");
        reader.require(reader.u32(SIGNATURE_AT, "Signature") == SIGNATURE, SIGNATURE_AT, "Signature", "not \"head\"");
        Checksums.requireValid(reader, raw, CHECKSUM_AT, "header");

        return new VhdxHeader(
                reader.bits64(SEQUENCE_NUMBER_AT, "SequenceNumber"),
                reader.windowsGuid(FILE_WRITE_GUID_AT, "FileWriteGuid"),
                reader.windowsGuid(DATA_WRITE_GUID_AT, "DataWriteGuid"),
                reader.windowsGuid(LOG_GUID_AT, "LogGuid"),
                reader.u16(LOG_VERSION_AT, "LogVersion"),
                reader.u16(VERSION_AT, "Version"),
                reader.u32(LOG_LENGTH_AT, "LogLength"),
                reader.u64(LOG_OFFSET_AT, "LogOffset"));
    }

    /** Checks the fields a reader depends on, once this header is known to be the current one. */
    void validate(Path file, long offset, long fileSize) throws CorruptDiskException {
        if (version != 1) {
            throw new CorruptDiskException(
                    file, offset + VERSION_AT, "header Version", "version " + version + " (only 1 is defined)");
        }
        if (logVersion != 0 && hasLog()) {
            throw new CorruptDiskException(
                    file,
                    offset + LOG_VERSION_AT,
                    "header LogVersion",
                    "log version " + logVersion + " with a log to replay");
        }
        if (logOffset % Layout.MIB != 0 || logOffset < Layout.HEADER_SECTION_SIZE) {
            throw new CorruptDiskException(
                    file,
                    offset + LOG_OFFSET_AT,
                    "header LogOffset",
                    "log offset " + logOffset + " is not a 1 MiB multiple after the header section");
        }
        if (logLength % Layout.MIB != 0 || logLength == 0) {
            throw new CorruptDiskException(
                    file,
                    offset + LOG_LENGTH_AT,
                    "header LogLength",
                    "log length " + logLength + " is not a positive 1 MiB multiple");
        }
        if (logOffset + logLength > fileSize) {
            throw new CorruptDiskException(
                    file,
                    logOffset,
                    "log",
                    "the file is truncated: the log ends at " + (logOffset + logLength) + ", the file at " + fileSize);
        }
    }

    public boolean hasLog() {
        return !logGuid.equals(Guids.ZERO);
    }

    ByteBuffer encode() {
        ByteBuffer raw = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        raw.putInt(SIGNATURE_AT, SIGNATURE);
        raw.putLong(SEQUENCE_NUMBER_AT, sequenceNumber);
        Guids.writeWindows(raw, FILE_WRITE_GUID_AT, fileWriteGuid);
        Guids.writeWindows(raw, DATA_WRITE_GUID_AT, dataWriteGuid);
        Guids.writeWindows(raw, LOG_GUID_AT, logGuid);
        raw.putShort(LOG_VERSION_AT, (short) logVersion);
        raw.putShort(VERSION_AT, (short) version);
        raw.putInt(LOG_LENGTH_AT, (int) logLength);
        raw.putLong(LOG_OFFSET_AT, logOffset);
        raw.putInt(CHECKSUM_AT, (int) Checksums.crc32c(raw, CHECKSUM_AT));
        return raw;
    }

    VhdxHeader withSequenceNumber(long value) {
        return new VhdxHeader(value, fileWriteGuid, dataWriteGuid, logGuid, logVersion, version, logLength, logOffset);
    }

    VhdxHeader withFileWriteGuid(UUID value) {
        return new VhdxHeader(sequenceNumber, value, dataWriteGuid, logGuid, logVersion, version, logLength, logOffset);
    }

    VhdxHeader withDataWriteGuid(UUID value) {
        return new VhdxHeader(sequenceNumber, fileWriteGuid, value, logGuid, logVersion, version, logLength, logOffset);
    }

    VhdxHeader withLogGuid(UUID value) {
        return new VhdxHeader(
                sequenceNumber, fileWriteGuid, dataWriteGuid, value, logVersion, version, logLength, logOffset);
    }
}
