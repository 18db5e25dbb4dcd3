package io.chainmerge.disk.io;

import io.chainmerge.disk.CorruptDiskException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.UUID;

/**
 * Reads the fields of one on-disk structure held in a buffer. Every read is bounds-checked, and every
 * error names the file, the absolute offset and the field, so nothing read from a file is trusted.
 */
public final class StructReader {
    private final Path file;
    private final long fileOffset;
    private final ByteBuffer buffer;
    private final String structure;

    public StructReader(Path file, long fileOffset, ByteBuffer buffer, ByteOrder order, String structure) {
        this.file = file;
        this.fileOffset = fileOffset;
        this.buffer = buffer.duplicate().order(order);
        this.structure = structure;
    }

    public int size() {
        return buffer.limit();
    }

    public int u8(int at, String field) throws CorruptDiskException {
        check(at, 1, field);
        return buffer.get(at) & 0xff;
    }

    public int u16(int at, String field) throws CorruptDiskException {
        check(at, 2, field);
        return buffer.getShort(at) & 0xffff;
    }

    public long u32(int at, String field) throws CorruptDiskException {
        check(at, 4, field);
        return buffer.getInt(at) & 0xffffffffL;
    }

    /** A u32 that must fit a Java int (lengths, counts, sizes the format caps below 2^31). */
    public int u32AsInt(int at, String field) throws CorruptDiskException {
        long value = u32(at, field);
        if (value > Integer.MAX_VALUE) {
            throw corrupt(at, field, "value " + value + " is out of range");
        }
        return (int) value;
    }

    /** A u64; values at or above 2^63 cannot be file offsets or sizes and are refused. */
    public long u64(int at, String field) throws CorruptDiskException {
        check(at, 8, field);
        long value = buffer.getLong(at);
        if (value < 0) {
            throw corrupt(at, field, "value " + Long.toUnsignedString(value) + " is out of range");
        }
        return value;
    }

    /** A u64 taken as raw bits (sequence numbers, BAT entries, all-ones markers). */
    public long bits64(int at, String field) throws CorruptDiskException {
        check(at, 8, field);
        return buffer.getLong(at);
    }

    public byte[] bytes(int at, int length, String field) throws CorruptDiskException {
        check(at, length, field);
        byte[] out = new byte[length];
        buffer.get(at, out);
        return out;
    }

    /** A GUID in the Windows byte order (VHDX). */
    public UUID windowsGuid(int at, String field) throws CorruptDiskException {
        check(at, 16, field);
        return Guids.readWindows(buffer, at);
    }

    /** 16 bytes taken as a big-endian UUID (VHD unique ids). */
    public UUID bigEndianUuid(int at, String field) throws CorruptDiskException {
        check(at, 16, field);
        ByteBuffer be = buffer.duplicate().order(ByteOrder.BIG_ENDIAN);
        return new UUID(be.getLong(at), be.getLong(at + 8));
    }

    public ByteBuffer slice(int at, int length, String field) throws CorruptDiskException {
        check(at, length, field);
        return buffer.slice(at, length).order(buffer.order());
    }

    /** Fails with a corruption error unless {@code condition} holds. */
    public void require(boolean condition, int at, String field, String problem) throws CorruptDiskException {
        if (!condition) {
            throw corrupt(at, field, problem);
        }
    }

    public CorruptDiskException corrupt(int at, String field, String problem) {
        return new CorruptDiskException(file, fileOffset + at, structure + " " + field, problem);
    }

    private void check(int at, int length, String field) throws CorruptDiskException {
        if (at < 0 || length < 0 || at > buffer.limit() - length) {
            throw corrupt(
                    at, field, "the field lies beyond the end of the " + structure + " (" + buffer.limit() + " bytes)");
        }
    }
}
