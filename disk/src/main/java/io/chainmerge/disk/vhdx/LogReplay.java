package io.chainmerge.disk.vhdx;

import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.io.Bounds;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Finds the active log sequence (MS-VHDX 2.3.3) and lists the writes replaying it makes. Applying them
 * is the caller's: to the file for a writable open, to an in-memory overlay for a read-only one.
 * Replay is idempotent, so a crash in the middle of it is mended by replaying again.
 */
record LogReplay(List<LogEntry> sequence) {
    static final int FLUSHED_FILE_OFFSET_AT = 48;
    static final int LAST_FILE_OFFSET_AT = 56;

    LogReplay {
        sequence = List.copyOf(sequence);
    }

    LogEntry head() {
        return sequence.get(sequence.size() - 1);
    }

    List<LogEntry.Update> updates() {
        List<LogEntry.Update> all = new ArrayList<>();
        for (LogEntry entry : sequence) {
            all.addAll(entry.updates());
        }
        return all;
    }

    /** The size the file must have once the log is replayed. */
    long lastFileOffset() {
        return head().lastFileOffset();
    }

    /**
     * Scans every 4 KiB position of the log for sequences of valid, consecutive entries carrying
     * {@code logGuid}, and keeps the valid one with the greatest head sequence number.
     */
    static LogReplay find(Path file, long logOffset, ByteBuffer log, UUID logGuid, long fileSize)
            throws CorruptDiskException {
        LogReplay replay = search(file, logOffset, log, logGuid);
        LogEntry head = replay.head();
        if (fileSize < head.flushedFileOffset()) {
            throw new CorruptDiskException(
                    file,
                    logOffset + head.position() + FLUSHED_FILE_OFFSET_AT,
                    "log entry FlushedFileOffset",
                    "the file is truncated: it is " + fileSize + " bytes, the log says at least "
                            + head.flushedFileOffset() + " were stable");
        }
        long limit = Math.max(fileSize, head.lastFileOffset());
        for (LogEntry.Update update : replay.updates()) {
            checkTarget(file, logOffset, log.capacity(), update, limit);
        }
        return replay;
    }

    /**
     * A descriptor may write anything from the region tables on (they change through the log, MS-VHDX
     * 2.2.3), up to the size the log gives the file; never the file type identifier or the headers,
     * which are never logged, nor the log itself.
     */
    private static void checkTarget(Path file, long logOffset, long logLength, LogEntry.Update update, long limit)
            throws CorruptDiskException {
        String problem = null;
        if (!Bounds.fits(update.fileOffset(), update.length(), limit)) {
            problem = "it writes [%s, +%d), past the end of the file the log describes (%d bytes)"
                    .formatted(Long.toUnsignedString(update.fileOffset()), update.length(), limit);
        } else if (update.fileOffset() < RegionTable.OFFSET1) {
            problem = "it writes at " + update.fileOffset() + ", over the file type identifier or the headers";
        } else if (Bounds.overlap(update.fileOffset(), update.length(), logOffset, logLength)) {
            problem = "it writes at " + update.fileOffset() + ", inside the log";
        }
        if (problem != null) {
            throw new CorruptDiskException(
                    file, logOffset + update.descriptor(), "log entry descriptor FileOffset", problem);
        }
    }

    /**
     * How many times over its length a log may be checksummed while searching it. A writer's entries
     * do not overlap, and each position is parsed once, so a real log costs at most about one pass
     * (two where old entries of the same session survive around newer ones); a log whose positions
     * all claim long entries would otherwise cost its length squared over 4 KiB.
     */
    private static final int CHECKSUM_PASSES = 4;

    private static LogReplay search(Path file, long logOffset, ByteBuffer log, UUID logGuid)
            throws CorruptDiskException {
        long logLength = log.capacity();
        Map<Long, LogEntry> parsed = new HashMap<>(); // by position; a null value: no entry there
        long[] checksummed = {0};
        LogEntry.ChecksumBudget budget = bytes -> {
            checksummed[0] += bytes;
            if (checksummed[0] > CHECKSUM_PASSES * logLength) {
                throw new CorruptDiskException(
                        file,
                        logOffset,
                        "log",
                        "its entry headers claim more overlapping space than any writer leaves ("
                                + checksummed[0] + " bytes checksummed in a log of " + logLength
                                + "); the search is abandoned");
            }
        };
        List<LogEntry> candidate = List.of();
        long candidateSequence = 0;
        long currentTail = 0;
        long oldTail = 0;
        while (true) {
            List<LogEntry> current = new ArrayList<>();
            long position = currentTail;
            long covered = 0;
            while (covered < logLength) {
                LogEntry entry;
                if (parsed.containsKey(position)) {
                    entry = parsed.get(position);
                } else {
                    entry = LogEntry.tryParse(log, position, logGuid, budget);
                    parsed.put(position, entry);
                }
                if (entry == null) {
                    break;
                }
                if (!current.isEmpty()
                        && entry.sequenceNumber()
                                != current.get(current.size() - 1).sequenceNumber() + 1) {
                    break;
                }
                current.add(entry);
                covered += entry.length();
                position = (position + entry.length()) % logLength;
            }
            int tailIndex = current.isEmpty()
                    ? -1
                    : indexOfPosition(current, current.get(current.size() - 1).tail());
            boolean valid = tailIndex >= 0;
            if (valid && current.get(current.size() - 1).sequenceNumber() > candidateSequence) {
                candidate = current.subList(tailIndex, current.size());
                candidateSequence = current.get(current.size() - 1).sequenceNumber();
            }
            if (!valid) {
                currentTail += LogEntry.SECTOR;
                if (currentTail == logLength) {
                    currentTail = 0;
                }
            } else {
                currentTail = position % logLength;
            }
            if (currentTail < oldTail || (currentTail == oldTail && valid)) {
                break;
            }
            oldTail = currentTail;
        }
        if (candidate.isEmpty()) {
            throw new CorruptDiskException(
                    file,
                    logOffset,
                    "log",
                    "the header says the log holds entries (LogGuid " + logGuid
                            + ") but no valid log sequence was found");
        }
        return new LogReplay(candidate);
    }

    private static int indexOfPosition(List<LogEntry> entries, long position) {
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).position() == position) {
                return i;
            }
        }
        return -1;
    }
}
