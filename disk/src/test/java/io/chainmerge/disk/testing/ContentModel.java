package io.chainmerge.disk.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.ChainReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * What a virtual disk should read: a sparse map of 512-byte sectors written so far, zeros elsewhere.
 * Tests write the same bytes here and into a disk, then compare the disk (or an oracle's reading of
 * it) with the model over the whole virtual size.
 */
public final class ContentModel {
    private static final int SECTOR = 512;
    private final long virtualSize;
    private final TreeMap<Long, byte[]> sectors = new TreeMap<>();

    public ContentModel(long virtualSize) {
        this.virtualSize = virtualSize;
    }

    public ContentModel copy() {
        ContentModel copy = new ContentModel(virtualSize);
        for (Map.Entry<Long, byte[]> entry : sectors.entrySet()) {
            copy.sectors.put(entry.getKey(), entry.getValue().clone());
        }
        return copy;
    }

    public long virtualSize() {
        return virtualSize;
    }

    public void write(long offset, byte[] data) {
        if (offset % SECTOR != 0 || data.length % SECTOR != 0) {
            throw new IllegalArgumentException("sector-aligned writes only");
        }
        for (int i = 0; i < data.length; i += SECTOR) {
            sectors.put(offset + i, Arrays.copyOfRange(data, i, i + SECTOR));
        }
    }

    public void zero(long offset, long length) {
        for (long at = offset; at < offset + length; at += SECTOR) {
            sectors.remove(at);
        }
    }

    public void read(long offset, byte[] into) {
        Arrays.fill(into, (byte) 0);
        long end = offset + into.length;
        Long first = sectors.floorKey(offset);
        for (Map.Entry<Long, byte[]> entry :
                sectors.subMap(first == null ? offset : first, true, end, false).entrySet()) {
            long sector = entry.getKey();
            long from = Math.max(sector, offset);
            long to = Math.min(sector + SECTOR, end);
            if (from < to) {
                System.arraycopy(
                        entry.getValue(), (int) (from - sector), into, (int) (from - offset), (int) (to - from));
            }
        }
    }

    /** Random data, from a seeded generator, at sector-aligned offsets; writes it to the model. */
    public static byte[] randomData(Random random, int length) {
        byte[] data = new byte[length];
        random.nextBytes(data);
        return data;
    }

    /** Writes {@code data} at {@code offset} into the disk and the model. */
    public void writeBoth(VirtualDisk disk, long offset, byte[] data) throws IOException {
        disk.write(offset, ByteBuffer.wrap(data));
        write(offset, data);
    }

    /** Asserts a raw image file holds exactly the model's content. */
    public void assertRawEquals(Path raw) throws IOException {
        try (FileChannel channel = FileChannel.open(raw, StandardOpenOption.READ)) {
            assertThat(channel.size()).as("size of %s", raw).isEqualTo(virtualSize);
            compare(raw.toString(), (offset, buffer) -> channel.read(buffer, offset));
        }
    }

    /** Asserts the chain reads exactly the model's content. */
    public void assertChainEquals(List<VirtualDisk> levels) throws IOException {
        ChainReader reader = new ChainReader(levels, levels.get(0).virtualSize());
        assertThat(reader.virtualSize()).isEqualTo(virtualSize);
        compare("chain " + levels.get(0).path(), (offset, buffer) -> {
            reader.read(offset, buffer);
            return 0;
        });
    }

    @FunctionalInterface
    private interface Source {
        int read(long offset, ByteBuffer into) throws IOException;
    }

    private void compare(String what, Source source) throws IOException {
        int chunk = 1 << 20;
        byte[] expected = new byte[chunk];
        for (long offset = 0; offset < virtualSize; offset += chunk) {
            int n = (int) Math.min(chunk, virtualSize - offset);
            byte[] actual = new byte[n];
            ByteBuffer buffer = ByteBuffer.wrap(actual);
            while (buffer.hasRemaining()) {
                int before = buffer.position();
                source.read(offset + before, buffer);
                if (buffer.position() == before) {
                    break;
                }
            }
            byte[] want = n == chunk ? expected : new byte[n];
            read(offset, want);
            if (!Arrays.equals(want, actual)) {
                int i = Arrays.mismatch(want, actual);
                throw new AssertionError(
                        "%s differs from the expected content at byte %d (0x%x): expected 0x%02x, read 0x%02x"
                                .formatted(what, offset + i, offset + i, want[i], actual[i]));
            }
        }
    }
}
