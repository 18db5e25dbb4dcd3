package io.chainmerge.disk.vhdx;

import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.io.DiskChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.UUID;

/**
 * Writes log entries for one session, under a LogGuid the owner puts in the header once the first
 * entry is flushed. Each entry is applied and flushed before the next is written, so it is its own
 * tail. Entries alternate between the two halves of the log: a torn write of a new
 * entry never destroys the previous one, which stays the active sequence and replays harmlessly
 * (its pages are already in place), instead of leaving a log with no valid sequence at all.
 */
final class LogWriter {
    private final DiskChannel channel;
    private final long logOffset;
    private final long halfLength;
    private final UUID logGuid;
    private long sequence = 1;
    private int half;

    LogWriter(DiskChannel channel, long logOffset, long logLength, UUID logGuid) {
        this.channel = channel;
        this.logOffset = logOffset;
        this.halfLength = logLength / 2 / LogEntry.SECTOR * LogEntry.SECTOR;
        this.logGuid = logGuid;
    }

    UUID logGuid() {
        return logGuid;
    }

    /** The most 4 KiB pages one entry, and so one atomic commit, can carry. */
    int capacity() {
        return LogEntry.capacity(halfLength);
    }

    /** Writes one entry and flushes it: from here on a crash replays these updates. */
    void write(List<LogEntry.Update> updates, long flushedFileOffset, long lastFileOffset) throws IOException {
        if (updates.size() > capacity()) {
            throw new IllegalStateException(updates.size() + " pages exceed one log entry (" + capacity() + ")");
        }
        long position = half * halfLength;
        ByteBuffer entry = LogEntry.encode(sequence, logGuid, flushedFileOffset, lastFileOffset, position, updates);
        channel.writeFully(entry, logOffset + position);
        CrashPoints.reach("vhdx.log.entry-written");
        channel.force();
        sequence++;
        half ^= 1;
    }
}
