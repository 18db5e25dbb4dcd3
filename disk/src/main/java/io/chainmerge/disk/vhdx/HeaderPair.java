package io.chainmerge.disk.vhdx;

import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.UnsupportedDiskException;
import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.io.DiskChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.UnaryOperator;

/**
 * The two headers and which one is current (MS-VHDX 2.2.2). Headers never go through the log: an
 * update overwrites the non-current one with a greater sequence number and flushes, so a torn write
 * leaves the old current header in force.
 */
final class HeaderPair {
    private final DiskChannel channel;
    private VhdxHeader current;
    private long currentOffset;

    private HeaderPair(DiskChannel channel, VhdxHeader current, long currentOffset) {
        this.channel = channel;
        this.current = current;
        this.currentOffset = currentOffset;
    }

    static HeaderPair read(DiskChannel channel) throws IOException {
        VhdxHeader first = null;
        VhdxHeader second = null;
        CorruptDiskException firstError = null;
        try {
            first = readOne(channel, VhdxHeader.HEADER1_OFFSET);
        } catch (CorruptDiskException e) {
            firstError = e;
        }
        try {
            second = readOne(channel, VhdxHeader.HEADER2_OFFSET);
        } catch (CorruptDiskException e) {
            if (first == null) {
                throw new CorruptDiskException(
                        channel.path(),
                        VhdxHeader.HEADER1_OFFSET,
                        "headers",
                        "neither header is valid (" + firstError.getMessage() + "; " + e.getMessage() + ")");
            }
        }
        HeaderPair pair;
        if (second == null
                || (first != null && Long.compareUnsigned(first.sequenceNumber(), second.sequenceNumber()) > 0)) {
            pair = new HeaderPair(channel, first, VhdxHeader.HEADER1_OFFSET);
        } else {
            pair = new HeaderPair(channel, second, VhdxHeader.HEADER2_OFFSET);
        }
        pair.current.validate(channel.path(), pair.currentOffset, channel.size());
        return pair;
    }

    private static VhdxHeader readOne(DiskChannel channel, long offset) throws IOException {
        ByteBuffer raw = ByteBuffer.allocate(VhdxHeader.SIZE);
        channel.readFully(raw, offset, "header");
        return VhdxHeader.parse(channel.path(), offset, raw.clear());
    }

    VhdxHeader current() {
        return current;
    }

    /** Writes both headers of a new file, the second current. */
    static void writeNew(DiskChannel channel, VhdxHeader header) throws IOException {
        channel.writeFully(header.withSequenceNumber(1).encode(), VhdxHeader.HEADER1_OFFSET);
        channel.writeFully(header.withSequenceNumber(2).encode(), VhdxHeader.HEADER2_OFFSET);
    }

    /**
     * Applies {@code change} through the update procedure of MS-VHDX 2.2.2.1: overwrite the non-current
     * header, flush, and then do it once more so both copies hold the new content.
     */
    void update(UnaryOperator<VhdxHeader> change) throws IOException {
        if (Long.compareUnsigned(current.sequenceNumber(), -3L) > 0) {
            // Two more updates would wrap the sequence number to 0, and the older header would win.
            throw new UnsupportedDiskException(
                    channel.path(),
                    "the header at offset %d has the sequence number %s, which cannot grow: the file can be read, not changed"
                            .formatted(currentOffset, Long.toUnsignedString(current.sequenceNumber())));
        }
        VhdxHeader changed = change.apply(current);
        for (int copy = 0; copy < 2; copy++) {
            long target =
                    currentOffset == VhdxHeader.HEADER1_OFFSET ? VhdxHeader.HEADER2_OFFSET : VhdxHeader.HEADER1_OFFSET;
            VhdxHeader next = changed.withSequenceNumber(current.sequenceNumber() + 1);
            channel.writeFully(next.encode(), target);
            channel.force();
            current = next;
            currentOffset = target;
            CrashPoints.reach("vhdx.header.updated");
        }
    }
}
