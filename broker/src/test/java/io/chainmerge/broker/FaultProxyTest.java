package io.chainmerge.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The proxy's faults, against an echo server: each one does what it says and nothing else. */
class FaultProxyTest {
    private ServerSocket echo;
    private FaultProxy proxy;

    @BeforeEach
    void start() throws IOException {
        echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread serve = new Thread(() -> {
            while (!echo.isClosed()) {
                try {
                    Socket socket = echo.accept();
                    Thread copy = new Thread(() -> {
                        try (socket) {
                            socket.getInputStream().transferTo(socket.getOutputStream());
                        } catch (IOException e) {
                            // the proxy reset it
                        }
                    });
                    copy.setDaemon(true);
                    copy.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        serve.setDaemon(true);
        serve.start();
        proxy = FaultProxy.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), echo.getLocalPort()));
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        echo.close();
    }

    @Test
    void carriesBytesBothWaysUnchanged() throws IOException {
        try (Socket socket = connect()) {
            assertThat(roundTrip(socket, "hello")).isEqualTo("hello");
        }
        assertThat(proxy.bytesCarried()).isEqualTo(10);
        assertThat(proxy.resets()).isZero();
    }

    @Test
    void delaysEveryChunk() throws IOException {
        proxy.delay(Duration.ofMillis(300));
        try (Socket socket = connect()) {
            long start = System.nanoTime();
            roundTrip(socket, "slow");
            // Once up, once down.
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(600));
        }
    }

    @Test
    void resetsAConnectionMidStreamAfterSoManyBytesAndOnlyAsOftenAsAsked() throws IOException {
        proxy.resetAfter(4, 1);
        try (Socket first = connect()) {
            assertThat(roundTrip(first, "abc")).isEqualTo("abc");
            first.getOutputStream().write("defgh".getBytes());
            assertThatThrownBy(() -> read(first, 5)).isInstanceOf(IOException.class);
        }
        try (Socket second = connect()) {
            assertThat(roundTrip(second, "abcdefgh")).isEqualTo("abcdefgh");
        }
        assertThat(proxy.resets()).isEqualTo(1);
    }

    @Test
    void resetAllBreaksOpenConnectionsButNotTheNextOnes() throws IOException {
        try (Socket open = connect()) {
            roundTrip(open, "up");
            proxy.resetAll();
            assertThatThrownBy(() -> {
                        open.getOutputStream().write("x".getBytes());
                        read(open, 1);
                    })
                    .isInstanceOf(IOException.class);
        }
        try (Socket next = connect()) {
            assertThat(roundTrip(next, "again")).isEqualTo("again");
        }
    }

    @Test
    void aBlackHoleCarriesNothingUntilHealedThenDeliversWhatWaited() throws IOException {
        try (Socket socket = connect()) {
            roundTrip(socket, "before");
            proxy.blackHole();
            socket.setSoTimeout(500);
            socket.getOutputStream().write("held".getBytes());
            assertThatThrownBy(() -> read(socket, 4)).isInstanceOf(SocketTimeoutException.class);
            try (Socket during = connect()) {
                during.setSoTimeout(500);
                during.getOutputStream().write("new".getBytes());
                assertThatThrownBy(() -> read(during, 3)).isInstanceOf(SocketTimeoutException.class);
            }
            proxy.heal();
            socket.setSoTimeout(5000);
            assertThat(read(socket, 4)).isEqualTo("held");
        }
    }

    private Socket connect() throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
        socket.setSoTimeout(5000);
        return socket;
    }

    private static String roundTrip(Socket socket, String text) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(text.getBytes());
        out.flush();
        return read(socket, text.length());
    }

    private static String read(Socket socket, int bytes) throws IOException {
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[bytes];
        int at = 0;
        while (at < bytes) {
            int n = in.read(buffer, at, bytes - at);
            if (n < 0) {
                throw new IOException("the stream ended after " + at + " bytes");
            }
            at += n;
        }
        return new String(buffer);
    }
}
