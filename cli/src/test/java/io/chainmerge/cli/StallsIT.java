package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.KafkaBroker;
import io.chainmerge.broker.TopicProbe;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignReport.JobView;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.JobKind;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.topic.Topics;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import io.chainmerge.worker.Worker;
import io.chainmerge.worker.WorkerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing out at a pool hangs its campaign silently: a job whose worker never answers is published again
 * after the stall timeout and then fails with reason {@code stalled}; a job record a worker rejects fails its
 * job with the worker's reason; a slow job that keeps reporting is left alone. Real broker, real workers.
 */
class StallsIT {
    private static final Topics TOPICS = new Topics("chainmerge");
    private static final MessageCodec CODEC = new MessageCodec(new JsonCodec());

    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    @TempDir
    Path work;

    @Test
    void aJobWhoseWorkerNeverAnswersIsPublishedAgainThenFailsAsStalledAndTheCampaignFinishes() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path root = Chains.root(volume.resolve("vm.vhdx"), 1, 2);
        Path child = Chains.child(volume.resolve("vm_1.avhdx"), root, 2, 4);
        String before = DemoFleet.digest(child);

        try (Coordinator coordinator = coordinator("stalls", "3s", 2);
                TopicProbe.Reader jobs = broker.probe().reader(TOPICS.jobs("stall"))) {
            CampaignClient client = client(coordinator);
            String id = plannedWithNoWorkerLeft(client, "stall", volume);
            client.act(id, "resume");

            await().atMost(Duration.ofSeconds(60)).until(() -> client.show(id).state() == CampaignState.FINISHED);
            CampaignReport report = client.show(id);
            JobView merge = merge(report);
            assertThat(merge.outcome()).isEqualTo(Outcome.FAILED);
            assertThat(merge.reason()).isEqualTo("stalled");
            assertThat(merge.message()).contains("no sign of life from pool stall", "after 2 attempts");
            assertThat(merge.figures())
                    .containsEntry("attempts", 2)
                    .containsEntry("stallTimeoutSeconds", 3)
                    .doesNotContainKey("lastSignOfLife");
            assertThat(merge.attempts()).isEqualTo(2);
            assertThat(report.totals().failed()).isEqualTo(1);
            assertThat(report.totals().republished()).isEqualTo(1);
            // The same job, same id, sent twice to its pool: the journal of whichever worker takes it answers twice.
            assertThat(jobIds(jobs)).filteredOn(merge.jobId()::equals).hasSize(2);
            assertThat(metrics(coordinator))
                    .contains("chainmerge_jobs_republished_total{kind=\"merge\"} 1.0")
                    .contains("chainmerge_jobs_stalled_total{kind=\"merge\"} 1.0");
            StringWriter text = new StringWriter();
            CampaignView.print(new PrintWriter(text), report);
            assertThat(text.toString())
                    .contains("1 times a job was published again")
                    .contains(
                            "failed    stall vm_1.avhdx: stalled: no sign of life from pool stall for 3s after 2 attempts");
        }
        assertThat(DemoFleet.digest(child)).isEqualTo(before);
    }

    @Test
    void aCancelledCampaignsStalledJobFailsAtOnceWithoutAnotherAttempt() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path root = Chains.root(volume.resolve("old.vhdx"), 7, 2);
        Chains.child(volume.resolve("old_1.avhdx"), root, 8, 4);

        try (Coordinator coordinator = coordinator("cancelled", "3s", 3);
                TopicProbe.Reader jobs = broker.probe().reader(TOPICS.jobs("gone"))) {
            CampaignClient client = client(coordinator);
            String id = plannedWithNoWorkerLeft(client, "gone", volume);
            client.act(id, "resume");
            String jobId = merge(client.show(id)).jobId();
            await().atMost(Duration.ofSeconds(30)).until(() -> jobIds(jobs).contains(jobId));
            client.act(id, "cancel");

            await().atMost(Duration.ofSeconds(30))
                    .until(() -> merge(client.show(id)).outcome() == Outcome.FAILED);
            JobView merge = merge(client.show(id));
            assertThat(merge.reason()).isEqualTo("stalled");
            assertThat(merge.attempts()).isEqualTo(1);
            assertThat(client.show(id).state()).isEqualTo(CampaignState.CANCELLED);
            assertThat(jobIds(jobs)).filteredOn(jobId::equals).hasSize(1);
        }
    }

    /**
     * A worker frozen mid-merge (SIGSTOP: its JVM, heartbeats and all, stops) sends nothing: its job is
     * published again, then failed as stalled, and the campaign finishes. Thawed, the worker finishes the merge
     * it had begun; that late result replaces the coordinator's verdict, and the copies answer from the journal.
     */
    @Test
    void aFrozenWorkersJobFailsAsStalledAndItsLateResultStillCountsWithTheMergeRunOnce() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path root = Chains.root(volume.resolve("cold.vhdx"), 5, 2);
        Path child = Chains.child(volume.resolve("cold_1.avhdx"), root, 6, 24);
        String before = DemoFleet.digest(child);
        Map<String, Object> settings = workerSettings("frozen", "frozen-w", volume);
        settings.put("kafka.session.timeout.ms", "6000");
        settings.put("kafka.heartbeat.interval.ms", "500");

        Process worker = FaultsIT.workerProcess(work, settings, "frozen-w");
        try (Coordinator coordinator = coordinator("frozen", "3s", 2);
                TopicProbe.Reader results = broker.probe().reader(TOPICS.results())) {
            CampaignClient client = client(coordinator);
            String id = client.submit(
                    """
                    name: frozen
                    pools: [frozen]
                    action: merge-to-root
                    rate: 4MiB/s
                    """);
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                JobView merge = client.show(id).jobs().stream()
                        .filter(j -> j.kind().equals("merge"))
                        .findFirst()
                        .orElse(null);
                return merge != null
                        && merge.progress() != null
                        && merge.progress().bytesDone() > 0;
            });
            signal(worker, "STOP");

            await().atMost(Duration.ofSeconds(60)).until(() -> client.show(id).state() == CampaignState.FINISHED);
            JobView stalled = merge(client.show(id));
            assertThat(stalled.reason()).isEqualTo("stalled");
            assertThat(stalled.attempts()).isEqualTo(2);
            assertThat(stalled.figures())
                    .containsEntry("lastWorker", "frozen-w")
                    .containsKey("lastSignOfLife");
            assertThat(stalled.message()).contains("last heard from frozen-w at");

            signal(worker, "CONT");
            await().atMost(Duration.ofSeconds(90))
                    .until(() -> merge(client.show(id)).outcome() == Outcome.SUCCEEDED);
            CampaignReport report = client.show(id);
            assertThat(report.totals().merged()).isEqualTo(1);
            assertThat(report.totals().failed()).isZero();
            String jobId = merge(report).jobId();
            // Both records of the job (the first and the copy) handled and committed by the pool: the copy was
            // answered by the run under way, or from the journal once it had ended, never by a second run.
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
                TopicPartition jobs = new TopicPartition(TOPICS.jobs("frozen"), 0);
                // Past the last job record (the coordinator's transactions end the log with a commit marker,
                // which a consumer's committed offset need not pass).
                long end = afterLastRecord(jobs);
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    var committed = admin.listConsumerGroupOffsets("chainmerge-pool-frozen")
                            .partitionsToOffsetAndMetadata()
                            .get()
                            .get(jobs);
                    return committed != null && committed.offset() >= end;
                });
            }
            assertThat(resultsOf(results, jobId))
                    .filteredOn(r -> !r.redelivered())
                    .hasSize(1);
        } finally {
            signal(worker, "CONT");
            worker.destroy();
            worker.waitFor();
        }
        assertThat(child).doesNotExist();
        assertThat(DemoFleet.digest(root)).isEqualTo(before);
    }

    /** The offset after the partition's last record (a control record, such as a commit marker, is none). */
    private static long afterLastRecord(TopicPartition partition) {
        return broker.probe().committed(List.of(partition.topic())).stream()
                .filter(record -> record.partition() == partition.partition())
                .mapToLong(record -> record.offset() + 1)
                .max()
                .orElse(0);
    }

    private static void signal(Process process, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid()))
                .inheritIO()
                .start();
        assertThat(kill.waitFor()).isZero();
    }

    private static List<JobResult> resultsOf(TopicProbe.Reader results, String jobId) {
        return results.poll().stream()
                .map(r -> {
                    try {
                        return CODEC.read(r.value(), JobResult.class);
                    } catch (Exception e) {
                        return null;
                    }
                })
                .filter(r -> r != null && r.jobId().equals(jobId))
                .toList();
    }

    @Test
    void aJobRecordTheWorkerRejectsFailsItsJobWithTheWorkersReason() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path root = Chains.root(volume.resolve("db.vhdx"), 3, 2);
        Path child = Chains.child(volume.resolve("db_1.avhdx"), root, 4, 4);
        String before = DemoFleet.digest(child);
        String pool = "rejecting";

        try (Coordinator coordinator = coordinator("dead-letters", "5m", 3);
                TopicProbe.Reader jobs = broker.probe().reader(TOPICS.jobs(pool));
                Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            CampaignClient client = client(coordinator);
            String id = plannedWithNoWorkerLeft(client, pool, volume);
            client.act(id, "resume");
            String jobId = merge(client.show(id)).jobId();
            await().atMost(Duration.ofSeconds(30)).until(() -> jobIds(jobs).contains(jobId));
            ConsumerRecord<String, byte[]> record = jobs.poll().stream()
                    .filter(r -> jobId.equals(jobIdOf(r)))
                    .findFirst()
                    .orElseThrow();
            // The record the worker gets is one its build cannot read (a newer coordinator's, say): the good one
            // is gone from the topic, and in its place a copy of schema version 99.
            TopicPartition partition = new TopicPartition(record.topic(), record.partition());
            admin.deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(record.offset() + 1)))
                    .all()
                    .get();
            String unreadable = new String(record.value(), java.nio.charset.StandardCharsets.UTF_8)
                    .replace("\"schemaVersion\":1", "\"schemaVersion\":99");
            // Where it lands: not always right after the good one, which a transaction's commit marker follows.
            long copyAt = broker.probe()
                    .send(record.topic(), record.key(), unreadable.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            // And a record that is no job of anyone's: its dead letter matches nothing, is counted, and the
            // coordinator's loop goes on.
            broker.probe()
                    .send(
                            record.topic(),
                            "noise",
                            "this is not JSON".getBytes(java.nio.charset.StandardCharsets.UTF_8));

            try (Worker worker = Worker.start(WorkerConfig.of(workerSettings(pool, "w2", volume)))) {
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> client.show(id).state() == CampaignState.FINISHED);
                await().atMost(Duration.ofSeconds(30)).until(() -> java.util.regex.Pattern.compile(
                                "chainmerge_dead_letters_total\\{matched=\"false\"} [1-9]")
                        .matcher(metrics(coordinator))
                        .find());
            }
            JobView merge = merge(client.show(id));
            assertThat(merge.outcome()).isEqualTo(Outcome.FAILED);
            assertThat(merge.reason()).isEqualTo("dead-letter");
            assertThat(merge.message()).contains("schemaVersion 99 is not supported");
            assertThat(merge.host()).isEqualTo("w2");
            assertThat(merge.figures()).containsEntry("offset", (int) copyAt);
            assertThat(metrics(coordinator)).contains("chainmerge_dead_letters_total{matched=\"true\"} 1.0");
            assertThat(coordinator.died().toCompletableFuture()).isNotDone();
        }
        assertThat(DemoFleet.digest(child)).isEqualTo(before);
    }

    @Test
    void slowJobsThatKeepReportingAreNeverPublishedAgain() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        for (int i = 0; i < 2; i++) {
            Path root = Chains.root(volume.resolve("app" + i + ".vhdx"), 10 + i, 2);
            Chains.child(volume.resolve("app" + i + "_1.avhdx"), root, 20 + i, 16);
        }
        try (Coordinator coordinator = coordinator("slow", "3s", 2);
                Worker worker = Worker.start(WorkerConfig.of(workerSettings("slow", "w", volume)));
                TopicProbe.Reader jobs = broker.probe().reader(TOPICS.jobs("slow"))) {
            CampaignClient client = client(coordinator);
            // Both merges out at once on one volume whose worker runs one at a time, 4 s each at this rate: the
            // second waits on the worker (or in Kafka behind the first) longer than the stall timeout.
            String id = client.submit(
                    """
                    name: slow
                    pools: [slow]
                    action: merge-to-root
                    limits: {perVolume: 2}
                    rate: 4MiB/s
                    """);
            await().atMost(Duration.ofSeconds(90)).until(() -> client.show(id).state() == CampaignState.FINISHED);
            CampaignReport report = client.show(id);
            assertThat(report.totals().merged()).isEqualTo(2);
            assertThat(report.totals().republished()).isZero();
            assertThat(report.jobs())
                    .filteredOn(j -> j.kind().equals("merge"))
                    .extracting(JobView::attempts)
                    .containsExactly(1, 1);
            assertThat(jobIds(jobs)).filteredOn(j -> j.contains("-m-")).doesNotHaveDuplicates();
            // The counter is there from the start, at 0: an alert tells "none" from "not reported".
            assertThat(metrics(coordinator)).contains("chainmerge_jobs_republished_total{kind=\"merge\"} 0.0");
        }
    }

    /**
     * A campaign over {@code pool} whose worker answered the space check and is gone before the merge is
     * published: submitted and paused before any worker runs, planned from the scan, then the worker stops.
     */
    private String plannedWithNoWorkerLeft(CampaignClient client, String pool, Path volume) throws Exception {
        String id = client.submit(
                """
                name: %s
                pools: [%s]
                action: merge-to-root
                """
                        .formatted(pool, pool));
        client.act(id, "pause");
        try (Worker worker = Worker.start(WorkerConfig.of(workerSettings(pool, "w1", volume)))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                CampaignReport report = client.show(id);
                return report.state() == CampaignState.RUNNING
                        && report.totals().jobs() == 1;
            });
        }
        assertThat(merge(client.show(id)).status()).isEqualTo(io.chainmerge.common.campaign.JobStatus.PLANNED);
        return id;
    }

    private Coordinator coordinator(String name, String stallTimeout, int maxAttempts) throws Exception {
        Map<String, Object> settings = new HashMap<>(CampaignScenario.coordinatorSettings(broker.bootstrapServers()));
        settings.put("coordinator.id", name);
        settings.put("topics.partitions", 1);
        settings.put("job.stall-timeout", stallTimeout);
        settings.put("job.max-attempts", maxAttempts);
        return Coordinator.start(CoordinatorConfig.of(settings));
    }

    private static Map<String, Object> workerSettings(String pool, String id, Path volume) {
        Map<String, Object> settings = new HashMap<>(
                CampaignScenario.workerSettings(pool, id, List.of(volume), broker.bootstrapServers(), "0"));
        settings.put("topics.partitions", 1);
        return settings;
    }

    private static CampaignClient client(Coordinator coordinator) {
        return new CampaignClient(
                "http://127.0.0.1:" + coordinator.httpPort(), ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
    }

    private static JobView merge(CampaignReport report) {
        return report.jobs().stream()
                .filter(j -> j.kind().equals(JobKind.MERGE.wireName()))
                .findFirst()
                .orElseThrow();
    }

    private static List<String> jobIds(TopicProbe.Reader jobs) {
        return jobs.poll().stream()
                .map(StallsIT::jobIdOf)
                .filter(Objects::nonNull)
                .toList();
    }

    private static String jobIdOf(ConsumerRecord<String, byte[]> record) {
        try {
            return CODEC.readJob(record.value()).jobId();
        } catch (Exception e) {
            return null; // not a job this build reads
        }
    }

    private static String metrics(Coordinator coordinator) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + coordinator.httpPort() + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }
}
