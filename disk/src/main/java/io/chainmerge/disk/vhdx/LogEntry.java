package io.chainmerge.disk.vhdx;

import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.io.Guids;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * One log entry (MS-VHDX 2.3.1): descriptor sectors, then one data sector per data descriptor. An
 * entry lives at a 4 KiB-aligned position of the circular log and may wrap around its end.
 */
record LogEntry(
        long position,
        long length,
        long tail,
        long sequenceNumber,
        UUID logGuid,
        long flushedFileOffset,
        long lastFileOffset,
        List<Update> updates) {

    static final int SECTOR = Layout.LOG_SECTOR;
    private static final int ENTRY_SIGNATURE = 0x65676F6C; // "loge"
    private static final int ZERO_SIGNATURE = 0x6F72657A; // "zero"
    private static final int DESC_SIGNATURE = 0x63736564; // "desc"
    private static final int DATA_SIGNATURE = 0x61746164; // "data"
    private static final int HEADER_SIZE = 64;
    private static final int DESCRIPTOR_SIZE = 32;
    private static final int CHECKSUM_AT = 4;

    /**
     * A write the entry makes: a 4 KiB sector of data, or {@code zeroLength} bytes of zeros. {@code
     * descriptor} is where the descriptor that asks for it sits in the log (-1 for writes not read
     * from a log), so a bad one can be named.
     */
    record Update(long fileOffset, byte[] data, long zeroLength, long descriptor) {
        static Update data(long fileOffset, byte[] sector) {
            return new Update(fileOffset, sector, 0, -1);
        }

        long length() {
            return data != null ? data.length : zeroLength;
        }
    }

    /** Descriptor sectors needed for {@code count} descriptors: 126 fit beside the header, 128 after. */
    static int descriptorSectors(int count) {
        return (count + 2 + 127) / 128;
    }

    /** The most data sectors an entry of at most {@code maxLength} bytes can carry. */
    static int capacity(long maxLength) {
        int sectors = (int) (maxLength / SECTOR);
        int data = sectors - 1;
        while (data > 0 && descriptorSectors(data) + data > sectors) {
            data--;
        }
        return data;
    }

    /** What checksumming an entry costs the caller's search; it may refuse to pay. */
    @FunctionalInterface
    interface ChecksumBudget {
        void spend(long bytes) throws CorruptDiskException;
    }

    /**
     * Parses the entry at {@code position} of {@code log}; null when no valid entry with {@code
     * expectedGuid} starts there (signature, lengths, sequence numbers in every descriptor and data
     * sector, and the checksum are all checked). The checksum, the one cost that grows with the
     * length the entry claims, is charged to {@code budget} first.
     */
    static LogEntry tryParse(ByteBuffer log, long position, UUID expectedGuid, ChecksumBudget budget)
            throws CorruptDiskException {
        long logLength = log.capacity();
        ByteBuffer first = readWrapped(log, position, SECTOR);
        if (first.getInt(0) != ENTRY_SIGNATURE) {
            return null;
        }
        long entryLength = first.getInt(8) & 0xffffffffL;
        long tail = first.getInt(12) & 0xffffffffL;
        long sequence = first.getLong(16);
        long descriptorCount = first.getInt(24) & 0xffffffffL;
        UUID guid = Guids.readWindows(first, 32);
        long flushed = first.getLong(48);
        long last = first.getLong(56);
        if (entryLength < SECTOR
                || entryLength % SECTOR != 0
                || entryLength > logLength
                || tail % SECTOR != 0
                || tail >= logLength
                || sequence <= 0
                || !guid.equals(expectedGuid)
                || flushed < 0
                || last < 0
                || flushed % Layout.MIB != 0
                || last % Layout.MIB != 0) {
            return null;
        }
        if (descriptorCount > entryLength / SECTOR * 128) {
            return null;
        }
        int descSectors = descriptorSectors((int) descriptorCount);
        if (descSectors > entryLength / SECTOR) {
            return null;
        }
        budget.spend(entryLength);
        ByteBuffer entry = readWrapped(log, position, (int) entryLength);
        long stored = entry.getInt(CHECKSUM_AT) & 0xffffffffL;
        if (Checksums.crc32c(entry, CHECKSUM_AT) != stored) {
            return null;
        }
        List<Update> updates = new ArrayList<>();
        long dataSector = descSectors;
        for (int i = 0; i < descriptorCount; i++) {
            int at = descriptorOffset(i);
            int signature = entry.getInt(at);
            long fileOffset = entry.getLong(at + 16);
            if (entry.getLong(at + 24) != sequence || fileOffset < 0 || fileOffset % SECTOR != 0) {
                return null;
            }
            if (signature == ZERO_SIGNATURE) {
                long zeroLength = entry.getLong(at + 8);
                if (zeroLength <= 0 || zeroLength % SECTOR != 0) {
                    return null;
                }
                updates.add(new Update(fileOffset, null, zeroLength, (position + at) % logLength));
            } else if (signature == DESC_SIGNATURE) {
                if ((dataSector + 1) * SECTOR > entryLength) {
                    return null;
                }
                int d = (int) (dataSector * SECTOR);
                if (entry.getInt(d) != DATA_SIGNATURE
                        || (entry.getInt(d + 4) & 0xffffffffL) != sequence >>> 32
                        || (entry.getInt(d + SECTOR - 4) & 0xffffffffL) != (sequence & 0xffffffffL)) {
                    return null;
                }
                byte[] sector = new byte[SECTOR];
                entry.get(d, sector);
                ByteBuffer restored = ByteBuffer.wrap(sector).order(ByteOrder.LITTLE_ENDIAN);
                restored.putLong(0, entry.getLong(at + 8)); // LeadingBytes
                restored.putInt(SECTOR - 4, entry.getInt(at + 4)); // TrailingBytes
                updates.add(new Update(fileOffset, sector, 0, (position + at) % logLength));
                dataSector++;
            } else {
                return null;
            }
        }
        return new LogEntry(position, entryLength, tail, sequence, guid, flushed, last, List.copyOf(updates));
    }

    private static int descriptorOffset(int index) {
        return index < 126 ? HEADER_SIZE + index * DESCRIPTOR_SIZE : SECTOR + (index - 126) * DESCRIPTOR_SIZE;
    }

    private static ByteBuffer readWrapped(ByteBuffer log, long position, int length) {
        ByteBuffer out = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        int logLength = log.capacity();
        int at = (int) position;
        int first = Math.min(length, logLength - at);
        out.put(0, log, at, first);
        if (first < length) {
            out.put(first, log, 0, length - first);
        }
        return out;
    }

    /** Encodes an entry whose tail is itself, carrying 4 KiB data updates. */
    static ByteBuffer encode(
            long sequence,
            UUID logGuid,
            long flushedFileOffset,
            long lastFileOffset,
            long position,
            List<Update> updates) {
        int count = updates.size();
        int descSectors = descriptorSectors(count);
        int length = (descSectors + count) * SECTOR;
        ByteBuffer entry = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        entry.putInt(0, ENTRY_SIGNATURE);
        entry.putInt(8, length);
        entry.putInt(12, (int) position);
        entry.putLong(16, sequence);
        entry.putInt(24, count);
        Guids.writeWindows(entry, 32, logGuid);
        entry.putLong(48, flushedFileOffset);
        entry.putLong(56, lastFileOffset);
        for (int i = 0; i < count; i++) {
            Update update = updates.get(i);
            if (update.data == null || update.data.length != SECTOR) {
                throw new IllegalArgumentException("log updates are whole 4 KiB sectors");
            }
            ByteBuffer data = ByteBuffer.wrap(update.data).order(ByteOrder.LITTLE_ENDIAN);
            int at = descriptorOffset(i);
            entry.putInt(at, DESC_SIGNATURE);
            entry.putInt(at + 4, data.getInt(SECTOR - 4));
            entry.putLong(at + 8, data.getLong(0));
            entry.putLong(at + 16, update.fileOffset);
            entry.putLong(at + 24, sequence);
            int d = (descSectors + i) * SECTOR;
            entry.put(d, update.data);
            entry.putInt(d, DATA_SIGNATURE);
            entry.putInt(d + 4, (int) (sequence >>> 32));
            entry.putInt(d + SECTOR - 4, (int) sequence);
        }
        entry.putInt(CHECKSUM_AT, (int) Checksums.crc32c(entry, CHECKSUM_AT));
        return entry;
    }
}
