package io.chainmerge.disk.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.testing.ChainFixture;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A merge held to a {@link Pace} its caller sets: it copies nothing while the pace is paused, hears a
 * stop while paused after at most one more chunk, and the same merge run again finishes it.
 */
class PacedMergeTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    /** A pace that lets the first chunk through, then pauses until told otherwise. */
    private static final class PausingPace implements Pace {
        volatile boolean paused;
        volatile boolean stop;
        final AtomicLong observedBytes = new AtomicLong();

        @Override
        public long bytesPerSecond() {
            return paused ? PAUSED : 0;
        }

        @Override
        public void observed(long bytes, long nanos) {
            observedBytes.addAndGet(bytes);
            paused = true; // from the second chunk on
        }

        @Override
        public boolean stopWanted() {
            return stop;
        }
    }

    @Test
    void aPausedMergeCopiesNothingStopsResumablyWhenAskedAndFinishesWhenRunAgain() throws Exception {
        ChainFixture chain = ChainFixture.withRoot(
                        dir, "base.vhdx", DiskSpec.dynamic(64 * MIB).withBlockSize((int) (32 * MIB)), 31)
                .write(6)
                .child("base_1.avhdx")
                .writeAt(MIB, (int) (40 * MIB));
        PausingPace pace = new PausingPace();
        AtomicLong done = new AtomicLong();
        MergeProgress progress = new MergeProgress() {
            @Override
            public void update(long bytesDone, long bytesTotal) {
                done.set(bytesDone);
            }

            @Override
            public boolean cancelled() {
                return pace.stop;
            }

            @Override
            public Throttle throttle(long rateBytesPerSecond) {
                return new Throttle(pace);
            }
        };
        CompletableFuture<MergeReport> merge = CompletableFuture.supplyAsync(() -> {
            try {
                return Merge.run(MergeRequest.of(chain.top()), progress);
            } catch (java.io.IOException e) {
                throw new CompletionException(e);
            }
        });

        await().atMost(Duration.ofSeconds(30)).until(() -> pace.paused);
        long whenPaused = done.get();
        await().during(Duration.ofMillis(600))
                .atMost(Duration.ofSeconds(5))
                .until(() -> done.get() == whenPaused && !merge.isDone());
        assertThat(whenPaused).isLessThanOrEqualTo(WindowCopy.CHUNK);

        pace.stop = true;
        await().atMost(Duration.ofSeconds(10)).until(merge::isDone);
        assertThat(merge).isCompletedExceptionally();
        assertThat(merge.handle((r, e) -> e.getCause()).get())
                .isInstanceOf(InterruptedIOException.class)
                .hasMessageContaining("run the same merge again");
        assertThat(done.get()).as("one chunk more at most").isLessThanOrEqualTo(2L * WindowCopy.CHUNK);
        chain.assertReads(chain.top());

        Merge.run(MergeRequest.of(chain.top()), MergeProgress.NONE);
        assertThat(chain.top()).doesNotExist();
        chain.assertReads(chain.root());
    }
}
