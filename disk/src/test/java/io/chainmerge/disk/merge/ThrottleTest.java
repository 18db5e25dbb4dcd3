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

    /** A pace a test sets by hand, recording what the throttle tells it. */
    private static final class HandPace implements Pace {
        volatile long rate;
        volatile boolean stop;
        final java.util.List<long[]> observed = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public long bytesPerSecond() {
            return rate;
        }

        @Override
        public void observed(long bytes, long nanos) {
            observed.add(new long[] {bytes, nanos});
        }

        @Override
        public boolean stopWanted() {
            return stop;
        }
    }

    @Test
    void aPacedCopyFollowsTheRateAsItChanges() throws InterruptedIOException {
        HandPace pace = new HandPace();
        pace.rate = 40L << 20;
        Throttle throttle = new Throttle(pace);
        long started = System.nanoTime();
        for (int i = 0; i < 11; i++) {
            throttle.acquire(2L << 20); // ten waits of 2 MiB at 40 MiB/s: half a second
        }
        double atForty = (System.nanoTime() - started) / 1e9;
        assertThat(atForty).isBetween(0.49, 2.0);
        pace.rate = 0;
        started = System.nanoTime();
        for (int i = 0; i < 10; i++) {
            throttle.acquire(2L << 20);
        }
        assertThat((System.nanoTime() - started) / 1e9).as("no limit").isLessThan(0.2);
        assertThat(pace.observed).hasSize(20).allSatisfy(o -> assertThat(o[0]).isEqualTo(2L << 20));
    }

    @Test
    void aPausedPaceHoldsTheCopyUntilItResumes() throws Exception {
        HandPace pace = new HandPace();
        pace.rate = Pace.PAUSED;
        Throttle throttle = new Throttle(pace);
        java.util.concurrent.CompletableFuture<Void> copy = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                throttle.acquire(1);
            } catch (InterruptedIOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        org.awaitility.Awaitility.await()
                .during(java.time.Duration.ofMillis(400))
                .atMost(java.time.Duration.ofSeconds(2))
                .until(() -> !copy.isDone());
        pace.rate = 0;
        copy.get(2, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Test
    void aPausedCopyGoesOnByOneChunkWhenAStopIsWanted() throws Exception {
        HandPace pace = new HandPace();
        pace.rate = Pace.PAUSED;
        Throttle throttle = new Throttle(pace);
        java.util.concurrent.CompletableFuture<Void> copy = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                throttle.acquire(1);
            } catch (InterruptedIOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        org.awaitility.Awaitility.await()
                .during(java.time.Duration.ofMillis(300))
                .atMost(java.time.Duration.ofSeconds(2))
                .until(() -> !copy.isDone());
        pace.stop = true;
        copy.get(2, java.util.concurrent.TimeUnit.SECONDS);
    }
}
