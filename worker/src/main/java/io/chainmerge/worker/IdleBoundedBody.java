package io.chainmerge.worker;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A response body read with a bound on silence. {@code java.net.http} bounds the connect and the wait for
 * the headers, but nothing bounds a pause in a body already under way: a sender whose network drops every
 * packet without a reset leaves a blocking read waiting until TCP gives up, which for a receiver that only
 * reads is never. Here each read waits at most {@code idle} for the next bytes, then cancels the exchange
 * (closing its connection) and raises {@link SilentStream}.
 */
final class IdleBoundedBody implements AutoCloseable {
    private static final Object END = new Object();
    /** Lists of buffers asked for ahead of what was read: enough to keep the stream going, bounded in memory. */
    private static final int WINDOW = 4;

    private final BlockingQueue<Object> arrived = new LinkedBlockingQueue<>();
    private final Duration idle;
    private volatile Flow.Subscription subscription;
    private Iterator<ByteBuffer> pending;
    private ByteBuffer current;
    private boolean ended;

    IdleBoundedBody(Flow.Publisher<List<ByteBuffer>> body, Duration idle) {
        this.idle = idle;
        body.subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription = s;
                s.request(WINDOW);
            }

            @Override
            public void onNext(List<ByteBuffer> item) {
                arrived.add(item);
            }

            @Override
            public void onError(Throwable error) {
                arrived.add(error);
            }

            @Override
            public void onComplete() {
                arrived.add(END);
            }
        });
    }

    /**
     * Up to {@code into.length} bytes, or -1 at the end of the body: waits (at most the idle timeout) for the first
     * bytes, then takes what has arrived meanwhile too, so a caller's large chunk is not one small buffer per call.
     */
    int read(byte[] into) throws IOException {
        if (!next()) {
            return -1;
        }
        int n = 0;
        do {
            int take = Math.min(into.length - n, current.remaining());
            current.get(into, n, take);
            n += take;
        } while (n < into.length && nextArrived());
        return n;
    }

    /** Whether bytes are at hand without waiting: in the buffers taken, or already queued. */
    private boolean nextArrived() throws IOException {
        if (current.hasRemaining() || (pending != null && pending.hasNext())) {
            return next();
        }
        return !ended && arrived.peek() instanceof List && next();
    }

    /** Makes {@code current} hold bytes, waiting for them at most the idle timeout; false at the end. */
    private boolean next() throws IOException {
        while (current == null || !current.hasRemaining()) {
            if (pending != null && pending.hasNext()) {
                current = pending.next();
                continue;
            }
            if (ended) {
                return false;
            }
            Object next;
            try {
                next = arrived.poll(idle.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new InterruptedIOException("interrupted waiting for the stream");
            }
            if (next == null) {
                close();
                throw new SilentStream(idle);
            }
            if (next == END) {
                ended = true;
                return false;
            }
            if (next instanceof Throwable error) {
                ended = true;
                throw error instanceof IOException io ? io : new IOException(error.toString(), error);
            }
            @SuppressWarnings("unchecked")
            List<ByteBuffer> buffers = (List<ByteBuffer>) next;
            pending = buffers.iterator();
            subscription.request(1); // one more for each taken: the sender is held to what this side takes
        }
        return true;
    }

    /** Reads the whole rest of the body, as an error answer's text. */
    byte[] readAll() throws IOException {
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        byte[] chunk = new byte[16 * 1024];
        int n;
        while ((n = read(chunk)) >= 0) {
            all.write(chunk, 0, n);
        }
        return all.toByteArray();
    }

    @Override
    public void close() {
        Flow.Subscription s = subscription;
        if (!ended && s != null) {
            ended = true;
            s.cancel();
        }
    }

    /**
     * Nothing arrived for the idle timeout: a stream that went silent, told apart from one that broke with a
     * reset. Not an {@link InterruptedIOException}, which results report as an interrupted run.
     */
    static final class SilentStream extends IOException {
        SilentStream(Duration idle) {
            super("no byte arrived for " + idle.toMillis() + " ms (transfer.idle-timeout)");
        }
    }
}
