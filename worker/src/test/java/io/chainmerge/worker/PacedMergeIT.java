package io.chainmerge.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.KafkaBroker;
import io.chainmerge.broker.TopicProbe;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.JobProgress;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.message.ReserveSpec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.topic.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker whose volume is paced by its latency ({@code io.latency-target}), against a real broker:
 * the merge runs to the same data, its progress says what pace the volume set and why, and the
 * metrics show the volume's pace and latency.
 */
class PacedMergeIT {
    private static final Topics TOPICS = new Topics("chainmerge");
    private static final MessageCodec CODEC = new MessageCodec(new JsonCodec());

    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    @TempDir
    Path volume;

    @Test
    void aPacedMergeReportsItsPaceAndWhyAndFinishesWithTheSameData() throws Exception {
        String pool = "paced-it-1";
        Path root = SampleDisks.root(volume.resolve("vm.vhdx"), 1, 12);
        Path child = SampleDisks.child(volume.resolve("vm_1.avhdx"), root, 2, 24);
        String before = SampleDisks.digest(child);
        long cap = 8L << 20;
        try (Worker worker = Worker.start(WorkerConfig.of(Map.ofEntries(
                        Map.entry("pool", pool),
                        Map.entry("worker.id", pool + "-w1"),
                        Map.entry("volumes", List.of(volume.toString())),
                        Map.entry("http.host", "127.0.0.1"),
                        Map.entry("http.port", 0),
                        Map.entry("topics.partitions", 2),
                        Map.entry("in-use.quiet", "0s"),
                        Map.entry("security.mode", "insecure"),
                        Map.entry("io.latency-target", "20ms"),
                        Map.entry("io.latency-pause", "500ms"),
                        Map.entry("io.min-rate", "1MiB"),
                        Map.entry("io.latency-interval", "200ms"),
                        Map.entry("kafka.bootstrap.servers", broker.bootstrapServers()))));
                TopicProbe.Reader results = broker.probe().reader(TOPICS.results());
                TopicProbe.Reader progress = broker.probe().reader(TOPICS.progress())) {
            MergeJob job = new MergeJob(
                    Schema.VERSION,
                    "merge-" + UUID.randomUUID(),
                    "test",
                    pool,
                    Instant.now(),
                    root.toString(),
                    child.toString(),
                    null,
                    null,
                    null,
                    false,
                    cap,
                    new ReserveSpec(0, 0));
            broker.probe().send(TOPICS.jobs(pool), job.key(), CODEC.write(job));
            List<JobProgress> reports = new ArrayList<>();
            List<JobResult> finished = new ArrayList<>();
            await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
                reports.addAll(WorkerIT.read(progress, JobProgress.class).stream()
                        .filter(p -> p.jobId().equals(job.jobId()))
                        .toList());
                finished.addAll(WorkerIT.read(results, JobResult.class).stream()
                        .filter(r -> r.jobId().equals(job.jobId()))
                        .toList());
                assertThat(finished).isNotEmpty();
            });
            assertThat(finished.get(0).outcome()).isEqualTo(Outcome.SUCCEEDED);
            List<JobProgress.Pacing> paces = reports.stream()
                    .map(JobProgress::pacing)
                    .filter(p -> p != null)
                    .toList();
            assertThat(paces).as("progress of a paced merge says its pace").isNotEmpty();
            assertThat(paces).allSatisfy(p -> {
                assertThat(p.reason()).containsAnyOf("latency", "no latency measured");
                assertThat(p.bytesPerSecond()).as("never above the job's rate").isBetween(0L, cap);
            });

            String metrics = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + worker.httpPort() + "/metrics"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            assertThat(metrics)
                    .contains("chainmerge_volume_pace_bytes_per_second{")
                    .contains("chainmerge_volume_paused{")
                    .contains("chainmerge_volume_latency_seconds{");
        }
        assertThat(SampleDisks.digest(root)).isEqualTo(before);
    }
}
