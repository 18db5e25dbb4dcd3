package io.chainmerge.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.broker.TopicProbe;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.message.ReserveSpec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.topic.Topics;
import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.merge.MergeJournal;
import io.chainmerge.disk.testing.Oracles;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A volume that fills up under a running merge, at its metadata commit (the data of a window flushed, the
 * log entry that would publish it not yet written): a real ENOSPC from a small tmpfs (needs root; skipped
 * where mounting is not allowed), the room taken by another writer after the space guard let the merge in.
 * The merge fails naming the full disk, the chain reads as before, the failure shows in the worker's metrics,
 * and the same job, delivered again once there is room, continues from the engine's journal and finishes.
 */
class MergeNoSpaceIT {
    private static final Topics TOPICS = new Topics("chainmerge");
    private static final MessageCodec CODEC = new MessageCodec(new JsonCodec());
    private static final String POOL = "no-space-it";

    @TempDir
    static Path brokerDir;

    static EmbeddedKafka kafka;
    static TopicProbe probe;

    @TempDir
    Path parent;

    private Path volume;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.start(brokerDir.resolve("kafka"));
        probe = new TopicProbe(kafka.bootstrapServers());
    }

    @AfterAll
    static void stopBroker() {
        probe.close();
        kafka.close();
    }

    @BeforeEach
    void mountASmallFileSystem() throws IOException {
        volume = Files.createDirectory(parent.resolve("volume"));
        Oracles.Result mount =
                Oracles.run(List.of("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", volume.toString()), false);
        Assumptions.assumeTrue(
                mount.exitCode() == 0,
                () -> "cannot mount a tmpfs here (needs root): "
                        + mount.output().strip());
        volume = volume.toRealPath();
    }

    @AfterEach
    void unmount() {
        CrashPoints.observe(null);
        Oracles.run(List.of("umount", volume.toString()), false);
    }

    @Test
    void aVolumeFilledAtAMergesMetadataCommitFailsTheMergeAndTheSameJobFinishesOnceThereIsRoom() throws Exception {
        Path root = SampleDisks.root(volume.resolve("vm.vhdx"), 1, 4);
        Path child = SampleDisks.child(volume.resolve("vm_1.avhdx"), root, 2, 24);
        String before = SampleDisks.digest(child);
        Path filler = volume.resolve("filler.bin");
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.chainmerge"))
                .setLevel(ch.qos.logback.classic.Level.DEBUG); // DEBUGTMP
        AtomicReference<String> filledAt = new AtomicReference<>();
        List<String> afterFilling = new java.util.concurrent.CopyOnWriteArrayList<>();
        // At the merge's first window commit, its data flushed and its metadata not yet logged, another writer
        // takes the last of the room.
        CrashPoints.observe(point -> {
            if (filledAt.get() != null) {
                afterFilling.add(point);
            } else if (point.equals("vhdx.commit.data-flushed") && filledAt.compareAndSet(null, point)) {
                fillUp(filler);
            }
        });
        HttpClient http = HttpClient.newHttpClient();
        MergeJob job = merge("no-space-" + System.nanoTime(), root, child);
        try (Worker worker = Worker.start(WorkerConfig.of(Map.ofEntries(
                        Map.entry("pool", POOL),
                        Map.entry("worker.id", POOL + "-w"),
                        Map.entry("volumes", List.of(volume.toString())),
                        Map.entry("http.host", "127.0.0.1"),
                        Map.entry("http.port", 0),
                        Map.entry("topics.partitions", 1),
                        Map.entry("in-use.quiet", "0s"),
                        Map.entry("reserve", "0"),
                        Map.entry("security.mode", "insecure"),
                        Map.entry("kafka.bootstrap.servers", kafka.bootstrapServers()))));
                TopicProbe.Reader results = probe.reader(TOPICS.results())) {
            probe.send(TOPICS.jobs(POOL), job.key(), CODEC.write(job));
            JobResult failed = awaitResult(results, job.jobId(), null);
            assertThat(filledAt.get()).isNotNull();
            assertThat(failed.outcome()).as(String.valueOf(failed.problem())).isEqualTo(Outcome.FAILED);
            assertThat(failed.problem().reason()).isEqualTo("io-error");
            assertThat(failed.problem().message()).contains("No space left on device");
            // The commit the volume filled under still completed: a VHDX commit writes its log entry and metadata
            // pages into space the file already holds, so ENOSPC meets the next window's new blocks instead.
            assertThat(afterFilling).startsWith("vhdx.log.entry-written").contains("vhdx.commit.applied");
            // The chain reads as before: the windows committed are in both files, nothing half-written shows.
            assertThat(SampleDisks.digest(child)).isEqualTo(before);
            assertThat(MergeJournal.pathFor(child)).exists();
            String metrics = http.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + worker.httpPort() + "/metrics"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            assertThat(metrics).containsPattern("chainmerge_jobs_total\\{[^}]*kind=\"merge\"[^}]*outcome=\"failed\"");

            // The failure is that job's result for good (docs/campaigns.md: a job delivered again answers with its
            // first result); a new job for the chain, once there is room, continues from the engine's journal.
            Files.delete(filler);
            MergeJob again = merge(job.jobId() + "-again", root, child);
            probe.send(TOPICS.jobs(POOL), again.key(), CODEC.write(again));
            JobResult merged = awaitResult(results, again.jobId(), null);
            assertThat(merged.outcome()).as(String.valueOf(merged.problem())).isEqualTo(Outcome.SUCCEEDED);
            assertThat(merged.merge().resumed()).isTrue();
        }
        assertThat(child).doesNotExist();
        assertThat(MergeJournal.pathFor(child)).doesNotExist();
        assertThat(SampleDisks.digest(root)).isEqualTo(before);
    }

    private static MergeJob merge(String jobId, Path root, Path child) {
        return new MergeJob(
                Schema.VERSION,
                jobId,
                "test",
                POOL,
                Instant.now(),
                root.toString(),
                child.toString(),
                null,
                null,
                null,
                false,
                8L << 20,
                new ReserveSpec(0, 0));
    }

    /** The first result of {@code jobId} (with {@code outcome}, if not null) that arrives. */
    private static JobResult awaitResult(TopicProbe.Reader results, String jobId, Outcome outcome) {
        List<JobResult> seen = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            WorkerIT.read(results, JobResult.class).stream()
                    .filter(r -> r.jobId().equals(jobId) && (outcome == null || r.outcome() == outcome))
                    .forEach(seen::add);
            assertThat(seen).isNotEmpty();
        });
        return seen.get(0);
    }

    /** Writes {@code file} until the file system is full. */
    private static void fillUp(Path file) {
        ByteBuffer ones = ByteBuffer.allocate(64 * 1024);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            while (true) {
                ones.clear();
                channel.write(ones);
            }
        } catch (IOException full) {
            // ENOSPC: what this is for
        }
    }
}
