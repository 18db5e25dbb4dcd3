package io.chainmerge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.common.message.JobProgress;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.ReserveSpec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.disk.merge.MergeProgress;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The signs of life of jobs a worker holds: a waiting job's are empty, a finishing job's keep its figures. */
class RunningMergesTest {
    @Test
    void aMergeThatHasCopiedEverythingKeepsItsFiguresUntilItIsLetGo() throws Exception {
        RunningMerges running = new RunningMerges("w1", () -> false);
        MergeJob merged = merge("m-1");
        MergeJob waiting = merge("m-2");
        MergeProgress progress = running.start(merged, 1 << 20);
        progress.update(1 << 20, 1 << 20);
        running.finish("m-1");

        List<JobProgress> held = running.waiting(List.of(merged, waiting));

        assertThat(held).extracting(JobProgress::jobId).containsExactly("m-1", "m-2");
        assertThat(held.get(0).bytesDone()).isEqualTo(1 << 20);
        assertThat(held.get(0).bytesTotal()).isEqualTo(1 << 20);
        assertThat(held.get(1).bytesTotal()).as("a job waiting for its slot").isZero();
        // Let go (its result sent), then delivered again: it waits like any other job.
        running.waiting(List.of(waiting));
        assertThat(running.waiting(List.of(merged)).get(0).bytesTotal()).isZero();
    }

    private static MergeJob merge(String jobId) {
        return new MergeJob(
                Schema.VERSION,
                jobId,
                "c-1",
                "p",
                Instant.now(),
                "/srv/v/" + jobId + ".vhdx",
                "/srv/v/" + jobId + "_1.avhdx",
                null,
                null,
                null,
                false,
                0,
                new ReserveSpec(0, 0));
    }
}
