package io.chainmerge.disk.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.chainmerge.disk.CorruptDiskException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The hand-over between a copy's reader thread and its writer: order, bounded memory, failures, stops. */
class ReadAheadTest {
    private static final int BUFFER = 64 << 10;

    @Test
    void chunksArriveInOrderThroughNoMoreBuffersThanThePool() throws Exception {
        Set<ByteBuffer> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Integer> order = new ArrayList<>();
        try (ReadAhead<ByteBuffer> reads = new ReadAhead<>("test read-ahead", 3, BUFFER, output -> {
            for (int i = 0; i < 50; i++) {
                ByteBuffer buffer = output.buffer();
                assertThat(buffer.capacity()).isEqualTo(BUFFER);
                assertThat(buffer.alignmentOffset(0, DiskChannel.DIRECT_ALIGN)).isZero();
                buffer.putInt(i).flip();
                output.emit(buffer);
            }
        })) {
            for (ByteBuffer buffer = reads.next(); buffer != null; buffer = reads.next()) {
                seen.add(buffer);
                order.add(buffer.getInt(0));
                reads.release(buffer);
            }
            assertThat(reads.next()).as("the end stays the end").isNull();
        }
        assertThat(order).hasSize(50).isSorted().doesNotHaveDuplicates();
        assertThat(seen)
                .as("every chunk went through one of the pool's buffers")
                .hasSize(3);
    }

    @Test
    void aReadAheadOpenedAfterAnotherReusesItsBuffers() throws Exception {
        int size = 48 << 10; // no other test's size: the kept buffers are these
        Set<ByteBuffer> first = drain(new ReadAhead<>("first read-ahead", 2, size, ReadAheadTest::twoChunks));
        Set<ByteBuffer> second = drain(new ReadAhead<>("second read-ahead", 2, size, ReadAheadTest::twoChunks));
        assertThat(second)
                .as("direct memory is freed only by a collection: each transplant file would add a pool")
                .isEqualTo(first);
    }

    private static void twoChunks(ReadAhead.Output<ByteBuffer> output) throws java.io.IOException {
        output.emit(output.buffer().putInt(1).flip());
        output.emit(output.buffer().putInt(2).flip());
    }

    private static Set<ByteBuffer> drain(ReadAhead<ByteBuffer> reads) throws Exception {
        Set<ByteBuffer> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        try (reads) {
            for (ByteBuffer buffer = reads.next(); buffer != null; buffer = reads.next()) {
                seen.add(buffer);
                reads.release(buffer);
            }
        }
        return seen;
    }

    @Test
    void theReaderStaysAtMostThePoolAheadOfTheWriter() throws Exception {
        AtomicInteger read = new AtomicInteger();
        try (ReadAhead<ByteBuffer> reads = new ReadAhead<>("test read-ahead", 4, BUFFER, output -> {
            for (int i = 0; i < 100; i++) {
                ByteBuffer buffer = output.buffer();
                read.incrementAndGet();
                output.emit(buffer.flip());
            }
        })) {
            ByteBuffer first = reads.next();
            await().atMost(Duration.ofSeconds(10)).until(() -> read.get() == 4);
            // Held by the writer, the pool's four buffers are all the reader may fill.
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> read.get() == 4);
            reads.release(first);
            await().atMost(Duration.ofSeconds(10)).until(() -> read.get() == 5);
        }
    }

    @Test
    void aCorruptSourceFailsTheWriterWithTheReadersOwnError() throws Exception {
        CorruptDiskException corrupt =
                new CorruptDiskException(Path.of("child.avhdx"), 1 << 20, "payload block", "test damage");
        try (ReadAhead<ByteBuffer> reads = new ReadAhead<>("test read-ahead", 2, BUFFER, output -> {
            output.emit(output.buffer().flip());
            throw corrupt;
        })) {
            assertThat(reads.next()).isNotNull();
            assertThatThrownBy(reads::next).isSameAs(corrupt);
            assertThat(reads.next()).isNull();
        }
    }

    @Test
    void closingStopsAReaderThatWaitsForABufferTheWriterKeeps() throws Exception {
        AtomicReference<Thread> readerThread = new AtomicReference<>();
        ReadAhead<ByteBuffer> reads = new ReadAhead<>("test read-ahead", 1, BUFFER, output -> {
            readerThread.set(Thread.currentThread());
            while (true) {
                output.emit(output.buffer().flip());
            }
        });
        assertThat(reads.next()).isNotNull(); // never released: the reader waits for it
        await().atMost(Duration.ofSeconds(10))
                .until(() -> readerThread.get() != null && readerThread.get().getState() == Thread.State.TIMED_WAITING);
        reads.close();
        assertThat(readerThread.get().isAlive()).isFalse();
        assertThat(readerThread.get().isInterrupted())
                .as("an interrupt would close the shared file channels under the reader")
                .isFalse();
    }
}
