package io.chainmerge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.Schema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The job journal on a volume that several workers share: of the deliveries racing to begin a job, one owns it. */
class JobJournalTest {
    private static final MessageCodec CODEC = new MessageCodec(new JsonCodec());

    @TempDir
    Path volume;

    private static MergeJob job() {
        return new MergeJob(
                Schema.VERSION,
                "merge-race",
                "c-1",
                "pool-a",
                Instant.parse("2026-12-07T12:00:00Z"),
                "/srv/vol1/vm.vhdx",
                "/srv/vol1/vm_1.avhdx",
                null,
                null,
                null,
                false,
                0,
                null);
    }

    @Test
    void ofEightWorkersBeginningOneJobAtOnceExactlyOneOwnsItsEntry() throws Exception {
        JobJournal journal = new JobJournal(volume, CODEC);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<Optional<JobJournal.Entry>>> begins = IntStream.range(0, 8)
                    .<Callable<Optional<JobJournal.Entry>>>mapToObj(
                            i -> () -> journal.begin(job(), "worker-" + i, Instant.now()))
                    .toList();
            List<Optional<JobJournal.Entry>> outcomes =
                    pool.invokeAll(begins).stream().map(JobJournalTest::get).toList();

            List<JobJournal.Entry> owners =
                    outcomes.stream().flatMap(Optional::stream).toList();
            assertThat(owners).hasSize(1);
            assertThat(journal.read("merge-race")).hasValueSatisfying(entry -> assertThat(entry.worker())
                    .isEqualTo(owners.get(0).worker()));
            try (var left = Files.list(journal.folder())) {
                assertThat(left.map(p -> p.getFileName().toString())).noneMatch(name -> name.endsWith(".tmp"));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aDeliveryThatFindsTheJobBegunNeverOverwritesItsOwnersEntry() throws Exception {
        JobJournal journal = new JobJournal(volume, CODEC);
        JobJournal.Entry owner =
                journal.begin(job(), "storage-a", Instant.now()).orElseThrow();

        assertThat(journal.begin(job(), "storage-b", Instant.now())).isEmpty();
        assertThat(journal.read("merge-race")).contains(owner);
    }

    private static <T> T get(Future<T> future) {
        try {
            return future.get();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
