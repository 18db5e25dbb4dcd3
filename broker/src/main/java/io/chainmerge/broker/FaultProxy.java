package io.chainmerge.broker;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on a loopback port, in the test's own JVM, that puts network faults between a client and
 * {@code target}: a delay on every chunk it carries, connections reset mid-stream (all at once, or each
 * after so many bytes), and a black hole that carries nothing (bytes wait, new connections are accepted
 * and left silent) until {@link #heal()}. It works below TLS, so HTTPS and Kafka's protocol pass through
 * unchanged. Blocking sockets, two threads per connection: a test carries a handful of connections.
 */
public final class FaultProxy implements AutoCloseable {
    private static final int CHUNK = 16 * 1024;

    private final InetSocketAddress target;
    private final ServerSocket listener;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final Object gate = new Object();
    private final AtomicLong bytesCarried = new AtomicLong();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger resets = new AtomicInteger();
    private final AtomicInteger resetsToCome = new AtomicInteger();

    private volatile long delayMillis;
    private volatile boolean blackHole;
    private volatile long resetAfterBytes = Long.MAX_VALUE;
    private volatile boolean closed;

    private FaultProxy(InetSocketAddress target, ServerSocket listener) {
        this.target = target;
        this.listener = listener;
    }

    /** Listens on a free loopback port and carries each connection to {@code target}, faultless at first. */
    public static FaultProxy start(InetSocketAddress target) {
        try {
            ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            FaultProxy proxy = new FaultProxy(target, listener);
            Thread accept = new Thread(proxy::acceptLoop, "fault-proxy-accept-" + listener.getLocalPort());
            accept.setDaemon(true);
            accept.start();
            return proxy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code 127.0.0.1:port}, for a client's bootstrap servers or an advertised listener. */
    public String address() {
        return "127.0.0.1:" + port();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Every chunk waits this long before it is passed on, in either direction ({@link Duration#ZERO}: none). */
    public FaultProxy delay(Duration delay) {
        this.delayMillis = delay.toMillis();
        return this;
    }

    /** Resets (TCP RST) every connection open now, both sides; new connections are carried as before. */
    public FaultProxy resetAll() {
        for (Link link : links) {
            link.reset();
        }
        return this;
    }

    /**
     * The next {@code times} connections that carry more than {@code bytes} towards the client are reset there,
     * mid-stream: a transfer broken part-way.
     */
    public FaultProxy resetAfter(long bytes, int times) {
        this.resetAfterBytes = bytes;
        this.resetsToCome.set(times);
        return this;
    }

    /** Carries nothing from now on: bytes wait in the proxy, new connections are accepted and get no answer. */
    public FaultProxy blackHole() {
        blackHole = true;
        return this;
    }

    /** Ends a black hole: what waited is passed on, as TCP's retransmissions would after a partition. */
    public FaultProxy heal() {
        synchronized (gate) {
            blackHole = false;
            gate.notifyAll();
        }
        return this;
    }

    /** Connections accepted so far. */
    public int connections() {
        return connections.get();
    }

    /** Connections this proxy reset, by {@link #resetAll()} or {@link #resetAfter}. */
    public int resets() {
        return resets.get();
    }

    /** Bytes passed on, both directions. */
    public long bytesCarried() {
        return bytesCarried.get();
    }

    @Override
    public void close() {
        closed = true;
        heal();
        try {
            listener.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Link link : links) {
            link.close();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                connections.incrementAndGet();
                Thread open = new Thread(() -> open(client), "fault-proxy-open-" + client.getPort());
                open.setDaemon(true);
                open.start();
            } catch (IOException e) {
                if (!closed) {
                    continue;
                }
                return;
            }
        }
    }

    private void open(Socket client) {
        try {
            awaitCarrying();
            Socket server = new Socket();
            server.connect(target, 10_000);
            Link link = new Link(client, server);
            links.add(link);
            link.pump(client, server, false);
            link.pump(server, client, true);
        } catch (IOException | InterruptedException e) {
            close(client);
        }
    }

    private void awaitCarrying() throws InterruptedException {
        synchronized (gate) {
            while (blackHole && !closed) {
                gate.wait(200);
            }
        }
    }

    /** One client connection and its connection to the target. */
    private final class Link {
        private final Socket client;
        private final Socket server;
        private final AtomicLong towardsClient = new AtomicLong();
        private final AtomicInteger ended = new AtomicInteger();
        private volatile boolean done;

        Link(Socket client, Socket server) {
            this.client = client;
            this.server = server;
        }

        void pump(Socket from, Socket to, boolean downstream) {
            Thread thread = new Thread(
                    () -> {
                        byte[] chunk = new byte[CHUNK];
                        try {
                            InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream();
                            int read;
                            while ((read = in.read(chunk)) >= 0) {
                                awaitCarrying();
                                long delay = delayMillis;
                                if (delay > 0) {
                                    Thread.sleep(delay);
                                }
                                if (done) {
                                    return;
                                }
                                if (downstream
                                        && towardsClient.addAndGet(read) > resetAfterBytes
                                        && resetsToCome.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                                    reset();
                                    return;
                                }
                                bytesCarried.addAndGet(read);
                                out.write(chunk, 0, read);
                                out.flush();
                            }
                            // An orderly end on one side is passed on as one; the link closes when both have ended.
                            to.shutdownOutput();
                            if (ended.incrementAndGet() == 2) {
                                close();
                            }
                        } catch (IOException | InterruptedException e) {
                            close();
                        }
                    },
                    "fault-proxy-" + (downstream ? "down-" : "up-") + client.getPort());
            thread.setDaemon(true);
            thread.start();
        }

        void reset() {
            if (!done) {
                resets.incrementAndGet();
                for (Socket socket : new Socket[] {client, server}) {
                    try {
                        socket.setSoLinger(true, 0); // close with RST, as a dropped connection looks
                    } catch (IOException e) {
                        // closing anyway
                    }
                }
                close();
            }
        }

        void close() {
            done = true;
            links.remove(this);
            FaultProxy.close(client);
            FaultProxy.close(server);
        }
    }

    private static void close(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing more to do with it
        }
    }
}
