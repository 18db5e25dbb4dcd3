package io.chainmerge.disk.io;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Deque;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;

/**
 * Reads ahead of a copy's writer on a thread of its own, into a small fixed pool of aligned buffers,
 * so the storage reads the next chunks while the writer writes this one. Memory is the pool, whatever
 * the size of the copy.
 *
 * <p>The reader hands over items in order (a chunk read into a buffer, or any step of the copy that
 * reads nothing); the writer takes them one by one and gives each buffer back when it is done with it.
 * Nothing the writer does waits on the reader except for the next item, so what the writer commits,
 * and when, is the writer's alone: reading ahead never makes anything durable sooner or later.
 *
 * <p>The reader thread is never interrupted: an interrupt during a read closes the file's channel,
 * which is shared through {@link OpenFileTable} and would drop the process's locks on the file. A
 * closed read-ahead is heard between reads instead.
 *
 * @param <T> what the reader hands over
 */
public final class ReadAhead<T> implements AutoCloseable {
    /** Chunks in flight: enough to keep a read queued while the writer writes, little memory. */
    public static final int DEPTH = 4;

    /** Between two looks at whether the other side stopped, while one waits for the other. */
    private static final long POLL_MILLIS = 50;

    /** What the reader thread runs: reads everything, handing each chunk over as it is read. */
    @FunctionalInterface
    public interface Reader<T> {
        void readAll(Output<T> output) throws IOException;
    }

    /** The reader's side of the hand-over. */
    public interface Output<T> {
        /** A free buffer of the pool, cleared; waits for the writer to give one back. */
        ByteBuffer buffer() throws IOException;

        /** Hands {@code item} to the writer; waits while the writer is {@link #DEPTH} items behind. */
        void emit(T item) throws IOException;
    }

    /**
     * Buffers of closed read-aheads, for the next one. Direct memory goes back to the system only when a
     * collection finds its buffer unreachable, which a small heap may not do for a long time, and a
     * transplant opens a read-ahead per file and per check: without these, a merge's resident memory
     * grew by the pool with each of them.
     */
    private static final Deque<ByteBuffer> KEPT = new ConcurrentLinkedDeque<>();

    private static final int KEPT_MAX = DEPTH * 2;

    /** Marks the end of the items in the queue: the reader finished, or failed with {@code failure}. */
    private record End(Throwable failure) {}

    private final BlockingQueue<ByteBuffer> free;
    private final BlockingQueue<Object> items;
    private final Thread thread;
    private volatile boolean closed;
    private boolean ended;

    /**
     * Starts reading with {@code reader} on a thread named {@code name}, with {@code buffers} buffers of
     * {@code bufferSize} bytes, each aligned for reads and writes past the page cache.
     */
    public ReadAhead(String name, int buffers, int bufferSize, Reader<T> reader) {
        this.free = new ArrayBlockingQueue<>(buffers);
        for (int i = 0; i < buffers; i++) {
            ByteBuffer buffer = KEPT.pollFirst();
            if (buffer == null || buffer.capacity() != bufferSize) {
                buffer = ByteBuffer.allocateDirect(bufferSize + DiskChannel.DIRECT_ALIGN)
                        .alignedSlice(DiskChannel.DIRECT_ALIGN)
                        .limit(bufferSize)
                        .slice();
            }
            free.add(buffer);
        }
        // Steps that read nothing take no buffer; a bound keeps a run of them from piling up.
        this.items = new ArrayBlockingQueue<>(Math.max(buffers, DEPTH) * 4);
        this.thread = new Thread(() -> run(reader), name);
        thread.setDaemon(true);
        thread.start();
    }

    private void run(Reader<T> reader) {
        Throwable failure = null;
        try {
            reader.readAll(new Output<>() {
                @Override
                public ByteBuffer buffer() throws IOException {
                    return take(free).clear();
                }

                @Override
                public void emit(T item) throws IOException {
                    put(item);
                }
            });
        } catch (Stopped e) {
            return; // the writer closed this read-ahead: nobody waits for an end
        } catch (Throwable e) {
            failure = e;
        }
        try {
            put(new End(failure));
        } catch (IOException e) {
            // Stopped: the writer is gone and no longer waits for the end.
        }
    }

    private ByteBuffer take(BlockingQueue<ByteBuffer> queue) throws IOException {
        try {
            while (true) {
                ByteBuffer buffer = queue.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (closed) {
                    throw new Stopped();
                }
                if (buffer != null) {
                    return buffer;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for a free read-ahead buffer");
        }
    }

    private void put(Object item) throws IOException {
        try {
            while (!items.offer(item, POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                if (closed) {
                    throw new Stopped();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted handing over a read chunk");
        }
    }

    /**
     * The next item, in the order the reader emitted them; null once the reader has emitted its last.
     * A failure of the reader is thrown here, as it was thrown there (a corrupt source stays a {@code
     * CorruptDiskException}).
     */
    @SuppressWarnings("unchecked")
    public T next() throws IOException {
        if (ended) {
            return null;
        }
        Object item;
        try {
            item = items.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for the next read chunk");
        }
        if (item instanceof End end) {
            ended = true;
            Throwable failure = end.failure();
            if (failure == null) {
                return null;
            }
            if (failure instanceof IOException io) {
                throw io;
            }
            if (failure instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (failure instanceof Error error) {
                throw error;
            }
            throw new UncheckedIOException(new IOException("the read-ahead failed", failure));
        }
        return (T) item;
    }

    /** Gives a buffer the writer is done with back to the reader. */
    public void release(ByteBuffer buffer) {
        free.add(buffer);
    }

    /**
     * Stops the reader after the read under way, if any, and waits for it: on return no thread of this
     * read-ahead touches the sources any more.
     */
    @Override
    public void close() throws InterruptedIOException {
        closed = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while the read-ahead stopped");
        }
        // Only what is back in the pool: a buffer the writer still holds stays the writer's.
        for (ByteBuffer buffer = free.poll(); buffer != null && KEPT.size() < KEPT_MAX; buffer = free.poll()) {
            KEPT.addFirst(buffer);
        }
    }

    /** Thrown on the reader thread once the writer has closed the read-ahead. */
    private static final class Stopped extends IOException {
        Stopped() {
            super("the read-ahead was closed");
        }
    }
}
