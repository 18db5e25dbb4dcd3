package io.chainmerge.disk.merge;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InterruptedIOException;
import org.junit.jupiter.api.Test;

/** The rate limit holds a copy back: it can only make a merge slower than its rate allows, never faster. */
class ThrottleTest {
    @Test
    void bytesBeyondTheRateWaitTheirTurn() throws InterruptedIOException {
        Throttle throttle = new Throttle(40L << 20); // 40 MiB/s
        long started = System.nanoTime();
        for (int i = 0; i < 10; i++) {
            throttle.acquire(2L << 20); // 20 MiB in all: half a second at the rate
        }
        assertThat((System.nanoTime() - started) / 1e9).isGreaterThanOrEqualTo(0.49);
    }

    @Test
    void noLimitNeverWaits() throws InterruptedIOException {
        Throttle throttle = new Throttle(0);
        long started = System.nanoTime();
        throttle.acquire(Long.MAX_VALUE / 2);
        assertThat((System.nanoTime() - started) / 1e9).isLessThan(1.0);
    }

    @Test
    void anInterruptedWaitStopsTheMergeWithAnInterruptedIoError() {
        Throttle throttle = new Throttle(1);
        Thread.currentThread().interrupt();
        try {
            throttle.acquire(10);
            throw new AssertionError("expected an interruption");
        } catch (InterruptedIOException expected) {
            assertThat(Thread.interrupted()).isTrue();
        }
    }
}
