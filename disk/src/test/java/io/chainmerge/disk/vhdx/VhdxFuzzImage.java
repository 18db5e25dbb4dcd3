package io.chainmerge.disk.vhdx;

import io.chainmerge.disk.testing.VhdxSurgery;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The fuzzer's view of a VHDX file. A real file is at least 4 MiB and almost all zeros, so a fuzz
 * input lists only its non-zero 4 KiB pages, each trimmed of trailing zeros:
 *
 * <pre>
 * u8  repairs     bit 0: recompute both header checksums, bit 1: both region table checksums,
 *                 bit 2: the checksum of every log entry in the current header's log
 * u16 size        the file's size in 4 KiB pages (at most {@value #MAX_PAGES})
 * then, until the input ends:
 *   u16 page      where the page goes, in 4 KiB pages
 *   u16 length    how many of its bytes follow (at most 4096; the rest of the page is zeros)
 *   bytes
 * </pre>
 *
 * All little-endian. Mutating a page's bytes mutates the structure there, mutating its number moves
 * it; the repair bits let mutations reach the fields behind a checksum, and clearing them lets the
 * fuzzer try bad checksums too. Every input decodes to some file: a truncated record is cut short.
 */
final class VhdxFuzzImage {
    static final int PAGE = 4096;
    /** 16 MiB: room for every structure and a few blocks, small enough to write per execution. */
    static final int MAX_PAGES = 4096;

    static final int REPAIR_HEADERS = 1;
    static final int REPAIR_REGION_TABLES = 2;
    static final int REPAIR_LOG = 4;
    static final int REPAIR_ALL = REPAIR_HEADERS | REPAIR_REGION_TABLES | REPAIR_LOG;

    private VhdxFuzzImage() {}

    /** Packs {@code file} as a fuzz input; the log's pages are left out when the log is empty. */
    static byte[] encode(Path file, int repairs) throws IOException {
        byte[] raw = Files.readAllBytes(file);
        if (raw.length > MAX_PAGES * PAGE) {
            throw new IllegalArgumentException(file + " is larger than a fuzz input holds");
        }
        long[] emptyLog = emptyLog(file);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(repairs);
        writeU16(out, (raw.length + PAGE - 1) / PAGE);
        for (int page = 0; page * PAGE < raw.length; page++) {
            long at = (long) page * PAGE;
            if (at >= emptyLog[0] && at < emptyLog[0] + emptyLog[1]) {
                continue;
            }
            int end = Math.min(raw.length, (page + 1) * PAGE);
            int last = end;
            while (last > page * PAGE && raw[last - 1] == 0) {
                last--;
            }
            if (last > page * PAGE) {
                writeU16(out, page);
                writeU16(out, last - page * PAGE);
                out.write(raw, page * PAGE, last - page * PAGE);
            }
        }
        return out.toByteArray();
    }

    /** Writes the file {@code input} describes to {@code file}, replacing what was there. */
    static void decode(byte[] input, Path file) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(input).order(ByteOrder.LITTLE_ENDIAN);
        int repairs = in.hasRemaining() ? in.get() & 0xff : 0;
        int pages = Math.min(MAX_PAGES, in.remaining() >= 2 ? in.getShort() & 0xffff : 0);
        try (FileChannel channel = FileChannel.open(
                file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            while (in.remaining() >= 4) {
                int page = in.getShort() & 0xffff;
                int length = Math.min(Math.min(in.getShort() & 0xffff, PAGE), in.remaining());
                ByteBuffer bytes = in.slice(in.position(), length);
                in.position(in.position() + length);
                if (page < pages) {
                    while (bytes.hasRemaining()) {
                        channel.write(bytes, (long) page * PAGE + bytes.position());
                    }
                }
            }
            channel.truncate((long) pages * PAGE);
            if (channel.size() < (long) pages * PAGE) {
                channel.write(ByteBuffer.allocate(1), (long) pages * PAGE - 1);
            }
        }
        repair(file, repairs);
    }

    private static void repair(Path file, int repairs) throws IOException {
        if (repairs == 0 || Files.size(file) < VhdxSurgery.MIB) {
            return;
        }
        try (VhdxSurgery surgery = VhdxSurgery.open(file)) {
            if ((repairs & REPAIR_HEADERS) != 0) {
                surgery.fixHeader(VhdxSurgery.HEADER1).fixHeader(VhdxSurgery.HEADER2);
            }
            if ((repairs & REPAIR_REGION_TABLES) != 0) {
                surgery.fixRegionTable(VhdxSurgery.REGION_TABLE1).fixRegionTable(VhdxSurgery.REGION_TABLE2);
            }
            if ((repairs & REPAIR_LOG) != 0) {
                repairLog(surgery);
            }
        }
    }

    /** Recomputes the checksum of every entry-shaped thing in the log that fits in it unwrapped. */
    private static void repairLog(VhdxSurgery surgery) throws IOException {
        long header;
        try {
            header = surgery.currentHeader();
        } catch (IllegalStateException noValidHeader) {
            return;
        }
        long log = surgery.u64(header + 72);
        long length = surgery.u32(header + 68);
        long size = surgery.size();
        if (log < VhdxSurgery.MIB || log % PAGE != 0 || length > size || log > size - length) {
            return;
        }
        for (long at = log; at < log + length; at += PAGE) {
            long entryLength = surgery.u32(at + 8);
            if (surgery.u32(at) == 0x65676F6CL
                    && entryLength >= PAGE
                    && entryLength % PAGE == 0
                    && entryLength <= log + length - at) {
                surgery.fixLogEntry(at);
            }
        }
    }

    /** The log's [offset, length) when the current header says it holds nothing; else an empty range. */
    private static long[] emptyLog(Path file) throws IOException {
        try (VhdxSurgery surgery = VhdxSurgery.open(file)) {
            long header = surgery.currentHeader();
            if (!surgery.guid(header + 48).equals(new java.util.UUID(0, 0))) {
                return new long[] {0, 0};
            }
            return new long[] {surgery.u64(header + 72), surgery.u32(header + 68)};
        }
    }

    private static void writeU16(ByteArrayOutputStream out, int value) {
        out.write(value & 0xff);
        out.write((value >>> 8) & 0xff);
    }
}
