package io.chainmerge.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A daemon's loops: one that dies on its own is the daemon's death, one that was asked to stop is not. */
class PollLoopsTest {

    @Test
    void aLoopThatThrowsKillsTheDaemonWithItsReason() throws Exception {
        PollLoops loops = new PollLoops();
        Thread thread = loops.start("chainmerge-jobs-w1", () -> {
            throw new IllegalStateException("fenced by a newer member");
        });
        thread.join();

        assertThat(loops.death())
                .contains("chainmerge-jobs-w1 stopped: java.lang.IllegalStateException: fenced by a newer member");
        assertThat(loops.died().toCompletableFuture()).isCompleted();
    }

    @Test
    void aLoopThatReturnsByItselfKillsTheDaemonToo() throws Exception {
        PollLoops loops = new PollLoops();
        loops.start("chainmerge-inventory", () -> {}).join();

        assertThat(loops.death()).contains("chainmerge-inventory ended by itself");
    }

    @Test
    void loopsEndingAfterAStopBeganAreNoDeath() throws Exception {
        PollLoops loops = new PollLoops();
        loops.stopping();
        loops.start("chainmerge-results", () -> {}).join();
        loops.start("chainmerge-backup-intake", () -> {
                    throw new IllegalStateException("closed under it");
                })
                .join();

        assertThat(loops.death()).isEmpty();
        assertThat(loops.died().toCompletableFuture()).isNotDone();
    }
}
