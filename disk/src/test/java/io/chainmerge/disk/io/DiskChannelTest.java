package io.chainmerge.disk.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.disk.Access;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flushes of one file from several threads (a merge's write-behind thread and its commits). The kernel
 * reports a failed writeback to one flush of an open file only; the storage's failure is simulated
 * here by a real file channel whose flush fails once, as fdatasync does after an EIO, and then
 * succeeds, as a second fdatasync on Linux does.
 */
class DiskChannelTest {
    @TempDir
    Path folder;

    @Test
    void aFlushThatFailedOnAnotherThreadFailsEveryLaterFlush() throws Exception {
        try (FlakyFlushChannel file = new FlakyFlushChannel(folder.resolve("disk.vhdx"), 1)) {
            DiskChannel channel = new DiskChannel(file.path, Access.WRITE, file);
            channel.writeFully(ByteBuffer.wrap(new byte[4096]), 0);

            Thread background = new Thread(() -> {
                try {
                    channel.force();
                } catch (IOException expected) {
                    // what the write-behind thread sees; the commit below must see it too
                }
            });
            background.start();
            background.join();

            assertThatThrownBy(channel::force)
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("an earlier flush failed")
                    .hasRootCauseMessage("Input/output error");
            assertThat(file.flushes.get())
                    .as("the kernel would report success now: the commit must not ask it")
                    .isEqualTo(1);
        }
    }

    @Test
    void flushesOfOneFileNeverOverlap() throws Exception {
        try (FlakyFlushChannel file = new FlakyFlushChannel(folder.resolve("disk.vhdx"), 0)) {
            DiskChannel channel = new DiskChannel(file.path, Access.WRITE, file);
            file.holdFlushes = new CountDownLatch(1);
            Thread first = new Thread(() -> forceQuietly(channel));
            Thread second = new Thread(() -> forceQuietly(channel));
            first.start();
            assertThat(file.entered.await(10, TimeUnit.SECONDS)).isTrue();
            second.start();
            second.join(300);
            assertThat(second.isAlive())
                    .as("a second flush waits for the first one's outcome")
                    .isTrue();
            file.holdFlushes.countDown();
            first.join();
            second.join();
            assertThat(file.mostAtOnce.get()).isEqualTo(1);
            assertThat(file.flushes.get()).isEqualTo(2);
        }
    }

    @Test
    void aReadOnlyChannelRefusesToFlush() throws Exception {
        try (FlakyFlushChannel file = new FlakyFlushChannel(folder.resolve("disk.vhdx"), 0)) {
            DiskChannel channel = new DiskChannel(file.path, Access.READ, file);
            assertThatThrownBy(channel::force).isInstanceOf(IllegalStateException.class);
            assertThat(file.flushes.get()).isZero();
        }
    }

    @Test
    void largeAlignedWritesGoPastThePageCacheAndReadBackThroughIt() throws Exception {
        Path file = folder.resolve("data.vhdx");
        Files.write(file, new byte[4096]);
        byte[] expected = new byte[(2 << 20) + 4096 + 512];
        new Random(21).nextBytes(expected);
        try (DiskChannel channel = DiskChannel.open(file, Access.WRITE)) {
            Assumptions.assumeTrue(channel.writesDirect(), "the file system of " + folder + " takes no O_DIRECT");
            ByteBuffer aligned = ByteBuffer.allocateDirect(expected.length + 2 * DiskChannel.DIRECT_ALIGN)
                    .alignedSlice(DiskChannel.DIRECT_ALIGN);
            aligned.put(expected).flip();
            // Direct: 2 MiB at an aligned offset. Buffered: what is not a whole number of 4 KiB pages.
            channel.writeFully(aligned.slice(0, 2 << 20), 1 << 20);
            channel.writeFully(aligned.slice(2 << 20, 4096 + 512), (1 << 20) + (2 << 20));
            channel.force();

            ByteBuffer back = ByteBuffer.allocate(expected.length);
            channel.readFully(back, 1 << 20, "test data");
            assertThat(back.array()).isEqualTo(expected);
        }
        try (DiskChannel again = DiskChannel.open(file, Access.WRITE)) {
            assertThat(again.writesDirect())
                    .as("the O_DIRECT descriptor closes with the file")
                    .isTrue();
        }
        assertThat(Files.size(file)).isEqualTo((1 << 20) + expected.length);
    }

    @Test
    void largeAlignedReadsGoPastThePageCacheAndSeeWritesStillInIt() throws Exception {
        Path file = folder.resolve("parent.vhdx");
        byte[] expected = new byte[(3 << 20) + 512]; // the file ends 512 bytes past a 4 KiB boundary
        new Random(22).nextBytes(expected);
        Files.createFile(file);
        try (DiskChannel channel = DiskChannel.open(file, Access.WRITE)) {
            Assumptions.assumeTrue(channel.readsDirect(), "the file system of " + folder + " takes no O_DIRECT");
            // Buffered, never flushed: dirty pages that a read past the cache must still see.
            channel.writeFully(ByteBuffer.wrap(expected), 0);
            ByteBuffer aligned = ByteBuffer.allocateDirect((4 << 20) + DiskChannel.DIRECT_ALIGN)
                    .alignedSlice(DiskChannel.DIRECT_ALIGN);
            aligned.limit(2 << 20);
            channel.readFully(aligned, 1 << 20, "test data");
            byte[] middle = new byte[2 << 20];
            aligned.flip().get(middle);
            assertThat(middle).isEqualTo(Arrays.copyOfRange(expected, 1 << 20, 3 << 20));

            // Past the end: a short direct read, then the unaligned rest through the cache.
            aligned.clear().limit(2 << 20);
            assertThat(channel.readAvailable(aligned, 2 << 20)).isEqualTo((1 << 20) + 512);
            byte[] tail = new byte[(1 << 20) + 512];
            aligned.flip().get(tail);
            assertThat(tail).isEqualTo(Arrays.copyOfRange(expected, 2 << 20, expected.length));
        }
        try (DiskChannel reader = DiskChannel.open(file, Access.READ)) {
            assertThat(reader.readsDirect())
                    .as("a disk opened for reading reads past the cache too")
                    .isTrue();
            ByteBuffer aligned = ByteBuffer.allocateDirect((2 << 20) + DiskChannel.DIRECT_ALIGN)
                    .alignedSlice(DiskChannel.DIRECT_ALIGN);
            reader.readFully(aligned, 0, "test data");
            byte[] head = new byte[2 << 20];
            aligned.flip().get(head);
            assertThat(head).isEqualTo(Arrays.copyOfRange(expected, 0, 2 << 20));
        }
    }

    private static void forceQuietly(DiskChannel channel) {
        try {
            channel.force();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** A real file whose first {@code failures} flushes fail as a storage error makes fdatasync fail. */
    private static final class FlakyFlushChannel extends FileChannel {
        final Path path;
        final FileChannel file;
        final AtomicInteger flushes = new AtomicInteger();
        final AtomicInteger inFlush = new AtomicInteger();
        final AtomicInteger mostAtOnce = new AtomicInteger();
        final CountDownLatch entered = new CountDownLatch(1);
        volatile CountDownLatch holdFlushes;
        private int failures;

        FlakyFlushChannel(Path path, int failures) throws IOException {
            this.path = path;
            this.file = FileChannel.open(
                    path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            this.failures = failures;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            mostAtOnce.accumulateAndGet(inFlush.incrementAndGet(), Math::max);
            try {
                flushes.incrementAndGet();
                entered.countDown();
                CountDownLatch hold = holdFlushes;
                if (hold != null && !hold.await(10, TimeUnit.SECONDS)) {
                    throw new IOException("test: held too long");
                }
                synchronized (this) {
                    if (failures > 0) {
                        failures--;
                        throw new IOException("Input/output error");
                    }
                }
                file.force(metaData);
            } catch (InterruptedException e) {
                throw new IOException(e);
            } finally {
                inFlush.decrementAndGet();
            }
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return file.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return file.read(dsts, offset, length);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return file.write(src);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            return file.write(srcs, offset, length);
        }

        @Override
        public long position() throws IOException {
            return file.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            file.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return file.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            file.truncate(size);
            return this;
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return file.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            return file.transferFrom(src, position, count);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return file.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            return file.write(src, position);
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            return file.map(mode, position, size);
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return file.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return file.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            file.close();
        }
    }
}
