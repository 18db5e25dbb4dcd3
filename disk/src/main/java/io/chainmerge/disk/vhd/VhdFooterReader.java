package io.chainmerge.disk.vhd;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.UnsupportedDiskException;
import io.chainmerge.disk.io.DiskChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds the footer a VHD is read from, which opening a {@link VhdFile} starts with: the one at the end,
 * an old 511-byte one, or for reading only the copy at offset 0; and checks the copy against it.
 */
final class VhdFooterReader {

    /** The footer found, its bytes as read, where it was read, where the file's footer starts, and notes. */
    record FooterRead(VhdFooter footer, byte[] bytes, long readAt, long endAt, List<String> notes) {}

    private VhdFooterReader() {}

    /**
     * The footer the disk is read from: the one at the end; a 511-byte one, which Virtual PC wrote
     * before 2004; or, for reading only, the copy at offset 0 when the one at the end is damaged (VHD spec:
     * "the footer is mirrored as a header at the front of the file for purposes of redundancy").
     */
    static FooterRead read(Path path, DiskChannel channel, Access access) throws IOException {
        long size = channel.size();
        if (size < VhdFooter.SIZE) {
            throw new CorruptDiskException(
                    path, 0, "footer", "the file is truncated: " + size + " bytes, fewer than the 512-byte footer");
        }
        long endAt = size - VhdFooter.SIZE;
        VhdFooter end = null;
        CorruptDiskException endProblem = null;
        ByteBuffer endRaw = VhdFile.read(channel, endAt, VhdFooter.SIZE, "footer");
        try {
            end = VhdFooter.parse(path, endAt, endRaw.duplicate(), "footer");
        } catch (CorruptDiskException e) {
            endProblem = e;
        }
        if (end != null) {
            List<String> notes = new ArrayList<>();
            if (end.diskType() != VhdFooter.FIXED) {
                checkCopy(path, channel, end, notes);
            }
            return new FooterRead(end, endRaw.array(), endAt, endAt, notes);
        }
        Optional<VhdFooter> old = shortFooter(path, channel, size);
        if (old.isPresent()) {
            if (access == Access.WRITE) {
                throw new UnsupportedDiskException(
                        path,
                        "a 511-byte footer (Virtual PC before 2004): chainmerge reads such a file but does not write to it");
            }
            return new FooterRead(
                    old.get(),
                    new byte[VhdFooter.SIZE],
                    size - 511,
                    size - 511,
                    List.of("a 511-byte footer, as Virtual PC wrote before 2004"));
        }
        VhdFooter copy;
        ByteBuffer copyRaw = VhdFile.read(channel, 0, VhdFooter.SIZE, "footer copy");
        try {
            copy = VhdFooter.parse(path, 0, copyRaw.duplicate(), "footer copy");
        } catch (CorruptDiskException e) {
            throw endProblem;
        }
        if (copy.diskType() == VhdFooter.FIXED) {
            throw endProblem; // a fixed disk has no copy: offset 0 is the disk's first sector
        }
        if (access == Access.WRITE) {
            CorruptDiskException refusal = new CorruptDiskException(
                    path,
                    endAt,
                    "footer",
                    "damaged, while its copy at offset 0 is intact: chainmerge reads such a file but does not write to it");
            refusal.addSuppressed(endProblem);
            throw refusal;
        }
        return new FooterRead(
                copy,
                copyRaw.array(),
                0,
                endAt,
                List.of("read from the copy at offset 0: the footer at the end is damaged (" + endProblem.getMessage()
                        + ")"));
    }

    /** A dynamic or differencing disk's copy at offset 0 must be the footer itself, or damaged (then said so). */
    private static void checkCopy(Path path, DiskChannel channel, VhdFooter end, List<String> notes)
            throws IOException {
        VhdFooter copy;
        try {
            copy = VhdFooter.parse(path, 0, VhdFile.read(channel, 0, VhdFooter.SIZE, "footer copy"), "footer copy");
        } catch (CorruptDiskException e) {
            notes.add("the footer copy at offset 0 is damaged (" + e.getMessage() + "); the footer at the end is used");
            return;
        }
        List<String> differences = end.differencesFrom(copy);
        if (!differences.isEmpty()) {
            throw new CorruptDiskException(
                    path,
                    0,
                    "footer copy",
                    "the copy at offset 0 differs from the footer at the end in " + String.join(", ", differences)
                            + ": readers that take either would see different disks");
        }
    }

    private static Optional<VhdFooter> shortFooter(Path path, DiskChannel channel, long size) throws IOException {
        if (size < 511) {
            return Optional.empty();
        }
        ByteBuffer raw = ByteBuffer.allocate(VhdFooter.SIZE);
        channel.readFully(raw.limit(511), size - 511, "footer");
        try {
            return Optional.of(VhdFooter.parse(path, size - 511, raw.clear(), "footer"));
        } catch (CorruptDiskException e) {
            return Optional.empty();
        }
    }
}
