package io.chainmerge.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.KafkaBroker;
import io.chainmerge.broker.TopicProbe;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.DeadLetter;
import io.chainmerge.common.message.InventoryPages;
import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.JobProgress;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.message.ReserveSpec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.SpaceCheckJob;
import io.chainmerge.common.message.VolumeInventory;
import io.chainmerge.common.message.VolumeScan;
import io.chainmerge.common.topic.Topics;
import io.chainmerge.disk.Access;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.testing.ChildJvm;
import io.chainmerge.disk.testing.EngineMain;
import io.chainmerge.disk.testing.Oracles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** One worker against a real broker: what it does with good, duplicate, malformed and out-of-bounds jobs. */
class WorkerIT {
    private static final AtomicInteger POOLS = new AtomicInteger();
    private static final Topics TOPICS = new Topics("chainmerge");
    private static final MessageCodec CODEC = new MessageCodec(new JsonCodec());

    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    @TempDir
    Path volume;

    @TempDir
    Path elsewhere;

    String pool;
    Worker worker;

    @BeforeEach
    void startWorker() throws Exception {
        pool = "worker-it-" + POOLS.incrementAndGet();
        worker = Worker.start(WorkerConfig.of(Map.of(
                "pool",
                pool,
                "worker.id",
                pool + "-w1",
                "volumes",
                List.of(volume.toString()),
                "http.host",
                "127.0.0.1",
                "http.port",
                0,
                "topics.partitions",
                2,
                "in-use.quiet",
                "0s",
                "security.mode",
                "insecure",
                "kafka.bootstrap.servers",
                broker.bootstrapServers())));
    }

    @AfterEach
    void stopWorker() {
        worker.close();
    }

    @Test
    void mergesAChildIntoItsParentReportingProgressAndTheResultingChain() throws Exception {
        Path root = SampleDisks.root(volume.resolve("vm.vhdx"), 1, 12);
        Path child = SampleDisks.child(volume.resolve("vm_1.avhdx"), root, 2, 24);
        String before = SampleDisks.digest(child);
        // Slow enough that progress must be reported while it runs.
        MergeJob job = merge(child, root, 0).withRate(8L << 20);

        try (TopicProbe.Reader results = broker.probe().reader(TOPICS.results());
                TopicProbe.Reader progress = broker.probe().reader(TOPICS.progress())) {
            publish(job);
            JobResult result = awaitResult(results, job.jobId());
            assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
            assertThat(result.bytesMerged()).isPositive();
            assertThat(result.resultingChain())
                    .containsExactly(root.toRealPath().toString());
            assertThat(result.merge().removed())
                    .containsExactly(volume.toRealPath().resolve("vm_1.avhdx").toString());
            assertThat(result.merge().reclaimedBytes()).isPositive();
            // The child was the VM's disk: the VM must now attach the parent.
            assertThat(result.merge().reattach()).isEqualTo(root.toRealPath().toString());
            assertThat(result.worker()).isEqualTo(pool + "-w1");
            List<JobProgress> reports = read(progress, JobProgress.class).stream()
                    .filter(p -> p.jobId().equals(job.jobId()))
                    .toList();
            assertThat(reports).isNotEmpty();
            assertThat(reports.get(reports.size() - 1).bytesTotal()).isPositive();
        }
        assertThat(child).doesNotExist();
        assertThat(SampleDisks.digest(root)).isEqualTo(before);
    }

    @Test
    void writersElsewhereAreRefusedWhileAMergeJobHoldsTheChain() throws Exception {
        Oracles.requireQemu();
        Path root = SampleDisks.root(volume.resolve("app.vhdx"), 6, 12);
        Path child = SampleDisks.child(volume.resolve("app_1.avhdx"), root, 7, 60);
        String before = SampleDisks.digest(child);
        Path junk = Files.write(elsewhere.resolve("junk.bin"), new byte[64 * 1024]);
        MergeJob job = merge(child, root, 0).withRate(4L << 20); // several seconds

        try (TopicProbe.Reader results = broker.probe().reader(TOPICS.results());
                TopicProbe.Reader progress = broker.probe().reader(TOPICS.progress())) {
            publish(job);
            await().atMost(Duration.ofSeconds(60)).until(() -> read(progress, JobProgress.class).stream()
                    .anyMatch(p -> p.jobId().equals(job.jobId())));

            // qemu, the engine in another process, and another operation of the worker's own process.
            Oracles.Result qemu =
                    Oracles.run(List.of("qemu-io", "-f", "vhdx", "-c", "write -P 0xee 0 64k", root.toString()), false);
            ChildJvm.Outcome otherProcess = ChildJvm.run(null, "write", child.toString(), "0", junk.toString());
            Throwable sameProcess =
                    catchThrowable(() -> DiskFiles.open(root, Access.WRITE).close());
            List<JobResult> whileWriting = resultsOf(results, job.jobId());

            assertThat(whileWriting).as("the merge still ran while they tried").isEmpty();
            assertThat(qemu.exitCode()).as(qemu.output()).isNotZero();
            assertThat(qemu.output()).contains("lock");
            assertThat(otherProcess.exitStatus()).as(otherProcess.output()).isEqualTo(EngineMain.REFUSED);
            assertThat(otherProcess.output())
                    .contains(
                            "in-use", "locked by pid " + ProcessHandle.current().pid());
            assertThat(sameProcess)
                    .isInstanceOf(GuardRefusal.class)
                    .hasMessageContaining("in use: open for writing by this process's merge of");
            assertThat(awaitResult(results, job.jobId()).outcome()).isEqualTo(Outcome.SUCCEEDED);
        }
        assertThat(child).doesNotExist();
        assertThat(SampleDisks.digest(root)).isEqualTo(before);
    }

    @Test
    void aJobDeliveredTwiceHasTheEffectOfOneRun() throws Exception {
        Path root = SampleDisks.root(volume.resolve("db.vhdx"), 3, 8);
        Path mid = SampleDisks.child(volume.resolve("db_1.avhdx"), root, 4, 8);
        Path top = SampleDisks.child(volume.resolve("db_2.avhdx"), mid, 5, 8);
        String before = SampleDisks.digest(top);
        MergeJob job = merge(mid, root, 0);

        try (TopicProbe.Reader results = broker.probe().reader(TOPICS.results())) {
            publish(job);
            JobResult first = awaitResult(results, job.jobId());
            assertThat(first.outcome()).isEqualTo(Outcome.SUCCEEDED);
            assertThat(first.redelivered()).isFalse();
            // db_2 was re-pointed: a VM on it keeps its disk.
            assertThat(first.merge().reattach()).isNull();
            long rootSize = Files.size(root);

            publish(job);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(resultsOf(results, job.jobId()))
                    .hasSize(2));
            JobResult second = resultsOf(results, job.jobId()).get(1);
            assertThat(second.redelivered()).isTrue();
            assertThat(second.outcome()).isEqualTo(Outcome.SUCCEEDED);
            assertThat(second.bytesMerged()).isEqualTo(first.bytesMerged());
            assertThat(Files.size(root)).isEqualTo(rootSize);
        }
        assertThat(mid).doesNotExist();
        assertThat(SampleDisks.digest(top)).isEqualTo(before);
    }

    /**
     * A merge that ran to its end under an earlier delivery whose result never reached the journal (its worker was
     * killed, or it is writing it now while a copy of the job reaches this one): the journal holds its plan only.
     * The worker finds the work done, answers from the plan, and counts it no new run.
     */
    @Test
    void aMergeFinishedByAnEarlierDeliveryIsAnsweredAsRedeliveredNotRunAgain() throws Exception {
        Path root = SampleDisks.root(volume.resolve("web.vhdx"), 9, 8);
        Path child = SampleDisks.child(volume.resolve("web_1.avhdx"), root, 10, 8);
        String before = SampleDisks.digest(child);
        MergeJob job = merge(child, root, 0);
        JobJournal journal = new JobJournal(volume, CODEC);
        JobJournal.Entry begun = journal.begin(job, "gone", Instant.now()).orElseThrow();
        journal.write(begun.planned(List.of(child.toString()), root.toString()));
        io.chainmerge.disk.merge.Merge.run(
                io.chainmerge.disk.merge.MergeRequest.of(child).withDestination(root),
                io.chainmerge.disk.merge.MergeProgress.NONE);

        try (TopicProbe.Reader results = broker.probe().reader(TOPICS.results())) {
            publish(job);
            JobResult answer = awaitResult(results, job.jobId());
            assertThat(answer.outcome()).isEqualTo(Outcome.SUCCEEDED);
            assertThat(answer.redelivered()).isTrue();
            assertThat(answer.bytesMerged()).isZero();
            assertThat(answer.merge().resumed()).isTrue();
            assertThat(answer.resultingChain()).containsExactly(root.toString());
        }
        assertThat(child).doesNotExist();
        assertThat(SampleDisks.digest(root)).isEqualTo(before);
    }

    /**
     * A stalled job is published again with the same id while its first run may still be going: the copy
     * waits behind the run (same chain, same partition) and answers from the journal; the merge runs once.
     */
    @Test
    void aCopyOfAJobPublishedWhileItRunsAnswersFromTheJournalAndTheMergeRunsOnce() throws Exception {
        Path root = SampleDisks.root(volume.resolve("app.vhdx"), 7, 8);
        Path child = SampleDisks.child(volume.resolve("app_1.avhdx"), root, 8, 24);
        String before = SampleDisks.digest(child);
        MergeJob job = merge(child, root, 0).withRate(8L << 20); // about 3 s

        try (TopicProbe.Reader results = broker.probe().reader(TOPICS.results());
                TopicProbe.Reader progress = broker.probe().reader(TOPICS.progress())) {
            publish(job);
            await().atMost(Duration.ofSeconds(60)).until(() -> read(progress, JobProgress.class).stream()
                    .anyMatch(p -> p.jobId().equals(job.jobId()) && p.bytesDone() > 0));
            publish(job);
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(resultsOf(results, job.jobId()))
                    .hasSize(2));
            List<JobResult> answers = resultsOf(results, job.jobId());
            assertThat(answers).allMatch(r -> r.outcome() == Outcome.SUCCEEDED);
            assertThat(answers).filteredOn(r -> !r.redelivered()).hasSize(1);
            assertThat(answers.get(1).bytesMerged()).isEqualTo(answers.get(0).bytesMerged());
        }
        assertThat(child).doesNotExist();
        assertThat(SampleDisks.digest(root)).isEqualTo(before);
    }

    /**
     * A job waiting for its volume's slot copies nothing yet, but the worker vouches for it every progress
     * interval (no bytes), so the coordinator's stall timeout does not take it for stalled.
     */
    @Test
    void aJobWaitingForItsVolumesSlotReportsSignsOfLifeWithoutBytes() throws Exception {
        Path firstRoot = SampleDisks.root(volume.resolve("one.vhdx"), 9, 8);
        Path firstChild = SampleDisks.child(volume.resolve("one_1.avhdx"), firstRoot, 10, 32);
        Path secondRoot = SampleDisks.root(volume.resolve("two.vhdx"), 11, 4);
        Path secondChild = SampleDisks.child(volume.resolve("two_1.avhdx"), secondRoot, 12, 4);
        MergeJob running = merge(firstChild, firstRoot, 0).withRate(4L << 20); // about 8 s, holding the one slot
        MergeJob waiting = merge(secondChild, secondRoot, 0);

        try (TopicProbe.Reader results = broker.probe().reader(TOPICS.results());
                TopicProbe.Reader progress = broker.probe().reader(TOPICS.progress())) {
            // Two partitions, so the second job reaches the worker while the first runs (a job behind a running
            // one on its own partition waits in Kafka; the coordinator's leases allow for that).
            broker.probe().send(new ProducerRecord<>(TOPICS.jobs(pool), 0, running.key(), CODEC.write(running)));
            await().atMost(Duration.ofSeconds(60)).until(() -> read(progress, JobProgress.class).stream()
                    .anyMatch(p -> p.jobId().equals(running.jobId()) && p.bytesDone() > 0));
            broker.probe().send(new ProducerRecord<>(TOPICS.jobs(pool), 1, waiting.key(), CODEC.write(waiting)));
            await().atMost(Duration.ofSeconds(30)).until(() -> read(progress, JobProgress.class).stream()
                    .anyMatch(p -> p.jobId().equals(waiting.jobId())));
            JobProgress heartbeat = read(progress, JobProgress.class).stream()
                    .filter(p -> p.jobId().equals(waiting.jobId()))
                    .findFirst()
                    .orElseThrow();
            assertThat(heartbeat.bytesDone()).isZero();
            assertThat(heartbeat.bytesTotal()).isZero();
            assertThat(heartbeat.child()).isEqualTo(secondChild.toString());
            // It was vouched for while the first merge still held the slot.
            assertThat(resultsOf(results, running.jobId())).isEmpty();
            awaitResult(results, waiting.jobId());
            assertThat(awaitResult(results, running.jobId()).outcome()).isEqualTo(Outcome.SUCCEEDED);
        }
    }

    @Test
    void malformedJobsGoToTheDeadLetterTopicWithTheReasonAndTheWorkerGoesOn() throws Exception {
        String topic = TOPICS.jobs(pool);
        broker.probe().send(topic, "k1", "this is not JSON".getBytes(StandardCharsets.UTF_8));
        broker.probe()
                .send(
                        topic,
                        "k2",
                        "{\"kind\":\"merge\",\"schemaVersion\":1,\"jobId\":\"half\",\"campaignId\":\"c\"}"
                                .getBytes(StandardCharsets.UTF_8));
        broker.probe()
                .send(
                        topic,
                        "k3",
                        "{\"kind\":\"defragment\",\"schemaVersion\":1,\"jobId\":\"odd\"}"
                                .getBytes(StandardCharsets.UTF_8));
        String future = CODEC.json().write(spaceCheck()).replace("\"schemaVersion\":1", "\"schemaVersion\":99");
        broker.probe().send(topic, "k4", future.getBytes(StandardCharsets.UTF_8));
        SpaceCheckJob good = spaceCheck();

        try (TopicProbe.Reader letters = broker.probe().reader(TOPICS.deadLetter());
                TopicProbe.Reader results = broker.probe().reader(TOPICS.results())) {
            publish(good);
            JobResult result = awaitResult(results, good.jobId());
            assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(ofPool(letters)).hasSize(4));
            List<DeadLetter> dead = ofPool(letters).stream()
                    .sorted(java.util.Comparator.comparing(DeadLetter::key))
                    .toList();
            assertThat(dead).extracting(DeadLetter::key).containsExactly("k1", "k2", "k3", "k4");
            assertThat(dead.get(0).reason()).startsWith("not a job");
            assertThat(dead.get(1).reason()).contains("(at dryRun)");
            assertThat(dead.get(1).jobId()).isEqualTo("half");
            assertThat(dead.get(2).reason()).contains("defragment");
            assertThat(dead.get(3).reason()).contains("schemaVersion 99");
            assertThat(dead.get(0).payload()).isEqualTo("this is not JSON");
        }
    }

    @Test
    void aJobNamingAPathOutsideTheVolumeRootsIsRejectedAndNothingChanges() throws Exception {
        Path outsideRoot = SampleDisks.root(elsewhere.resolve("secret.vhdx"), 6, 4);
        Path outsideChild = SampleDisks.child(elsewhere.resolve("secret_1.avhdx"), outsideRoot, 7, 4);
        String before = SampleDisks.digest(outsideChild);
        Files.createSymbolicLink(volume.resolve("link"), elsewhere);
        // Directly, through .., and through a link inside the volume that points out of it.
        List<MergeJob> jobs = List.of(
                merge(outsideChild, outsideRoot, 0),
                merge(Path.of(volume + "/../" + elsewhere.getFileName() + "/secret_1.avhdx"), outsideRoot, 0),
                merge(volume.resolve("link/secret_1.avhdx"), volume.resolve("link/secret.vhdx"), 0));

        try (TopicProbe.Reader results = broker.probe().reader(TOPICS.results())) {
            jobs.forEach(this::publish);
            for (MergeJob job : jobs) {
                JobResult result = awaitResult(results, job.jobId());
                assertThat(result.outcome()).isEqualTo(Outcome.FAILED);
                assertThat(result.problem().reason()).isEqualTo("invalid-request");
                assertThat(result.problem().message()).contains("outside this worker's volume roots");
            }
        }
        assertThat(outsideChild).exists();
        assertThat(SampleDisks.digest(outsideChild)).isEqualTo(before);
    }

    @Test
    void refusesAMergeThatWouldOrphanASiblingOrOutgrowTheVolumeAndChangesNothing() throws Exception {
        Path root = SampleDisks.root(volume.resolve("web.vhdx"), 8, 6);
        Path base = SampleDisks.child(volume.resolve("web_base.avhdx"), root, 9, 6);
        Path a = SampleDisks.child(volume.resolve("web_a.avhdx"), base, 10, 6);
        Path b = SampleDisks.child(volume.resolve("web_b.avhdx"), base, 11, 6);
        String a0 = SampleDisks.digest(a);
        String b0 = SampleDisks.digest(b);
        long baseSize = Files.size(base);
        MergeJob sibling = merge(a, root, 0);
        MergeJob noRoom = withReserve(merge(base, root, 0), new ReserveSpec(Long.MAX_VALUE, 1.0));

        try (TopicProbe.Reader results = broker.probe().reader(TOPICS.results())) {
            publish(sibling);
            publish(noRoom);
            JobResult refusedSibling = awaitResult(results, sibling.jobId());
            assertThat(refusedSibling.outcome()).isEqualTo(Outcome.REFUSED);
            assertThat(refusedSibling.problem().reason()).isEqualTo("siblings");
            JobResult refusedSpace = awaitResult(results, noRoom.jobId());
            assertThat(refusedSpace.outcome()).isEqualTo(Outcome.REFUSED);
            assertThat(refusedSpace.problem().reason()).isEqualTo("insufficient-space");
            assertThat(refusedSpace.problem().figures()).containsKeys("requiredBytes", "availableBytes");
        }
        assertThat(Files.size(base)).isEqualTo(baseSize);
        assertThat(SampleDisks.digest(a)).isEqualTo(a0);
        assertThat(SampleDisks.digest(b)).isEqualTo(b0);
    }

    @Test
    void aSpaceCheckReportsEveryChainAndTheVolumeToTheInventoryAndNamesTheScanInItsResult() throws Exception {
        Path root = SampleDisks.root(volume.resolve("app.vhdx"), 12, 2);
        SampleDisks.child(volume.resolve("app_1.avhdx"), root, 13, 2);
        SpaceCheckJob job = spaceCheck();
        try (TopicProbe.Reader results = broker.probe().reader(TOPICS.results());
                TopicProbe.Reader inventory = broker.probe().reader(TOPICS.inventory())) {
            publish(job);
            JobResult result = awaitResult(results, job.jobId());
            // The result names the scan; the disks are on the inventory topic only.
            assertThat(result.inventory()).singleElement().satisfies(scan -> {
                assertThat(scan.volume()).isEqualTo(volume.toString());
                assertThat(scan.scanId()).isNotBlank();
                assertThat(scan.pages()).isEqualTo(1);
                assertThat(scan.diskCount()).isEqualTo(2);
            });
            assertThat(new String(CODEC.write(result), StandardCharsets.UTF_8)).doesNotContain("app_1.avhdx");
            VolumeScan named = result.inventory().get(0);
            List<VolumeInventory> pages = await().atMost(Duration.ofSeconds(20))
                    .until(
                            () -> read(inventory, VolumeInventory.class).stream()
                                    .filter(v -> named.scanId().equals(v.scanId()))
                                    .toList(),
                            found -> !found.isEmpty());
            assertThat(pages).singleElement().satisfies(page -> {
                assertThat(page.pageKey()).isEqualTo(named.key() + "#0");
                assertThat(page.jobId()).isEqualTo(job.jobId());
            });
            VolumeInventory scanned =
                    new InventoryPages.Assembly(pages.get(0)).add(pages.get(0)).orElseThrow();
            assertThat(scanned.disks())
                    .extracting(d -> Path.of(d.path()).getFileName().toString())
                    .containsExactlyInAnyOrder("app.vhdx", "app_1.avhdx");
            assertThat(scanned.usableBytes()).isPositive();
            assertThat(scanned.volumeId())
                    .as("the volume's own id, kept on it")
                    .isEqualTo(Files.readString(volume.resolve(".chainmerge/volume-id"))
                            .strip());
        }
    }

    @Test
    void servesHealthReadinessAndPrometheusMetrics() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + worker.httpPort();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(http.send(
                                HttpRequest.newBuilder(URI.create(base + "/ready"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .statusCode())
                .isEqualTo(200));
        assertThat(http.send(
                                HttpRequest.newBuilder(URI.create(base + "/health"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body())
                .contains("\"up\"");
        SpaceCheckJob job = spaceCheck();
        try (TopicProbe.Reader results = broker.probe().reader(TOPICS.results())) {
            publish(job);
            awaitResult(results, job.jobId());
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(http.send(
                                HttpRequest.newBuilder(URI.create(base + "/metrics"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body())
                .contains("chainmerge_jobs_total{kind=\"space-check\",outcome=\"succeeded\"")
                .contains("chainmerge_volume_free_bytes{")
                .contains("chainmerge_merged_bytes_total")
                .contains("chainmerge_merge_rate_bytes_per_second"));
    }

    private SpaceCheckJob spaceCheck() {
        return new SpaceCheckJob(Schema.VERSION, "scan-" + UUID.randomUUID(), "test", pool, Instant.now(), List.of());
    }

    private MergeJob merge(Path child, Path chainRoot, long rate) {
        return new MergeJob(
                Schema.VERSION,
                "merge-" + UUID.randomUUID(),
                "test",
                pool,
                Instant.now(),
                chainRoot.toString(),
                child.toString(),
                null,
                null,
                null,
                false,
                rate,
                new ReserveSpec(0, 0));
    }

    private static MergeJob withReserve(MergeJob job, ReserveSpec reserve) {
        return new MergeJob(
                job.schemaVersion(),
                job.jobId(),
                job.campaignId(),
                job.pool(),
                job.issuedAt(),
                job.chain(),
                job.child(),
                job.destination(),
                job.intoNew(),
                job.intoNewType(),
                job.dryRun(),
                job.rateBytesPerSecond(),
                reserve);
    }

    private void publish(Job job) {
        broker.probe().send(TOPICS.jobs(pool), job.key(), CODEC.write(job));
    }

    private List<DeadLetter> ofPool(TopicProbe.Reader letters) {
        return read(letters, DeadLetter.class).stream()
                .filter(d -> d.topic().equals(TOPICS.jobs(pool)))
                .toList();
    }

    private static JobResult awaitResult(TopicProbe.Reader results, String jobId) {
        await().atMost(Duration.ofSeconds(60))
                .untilAsserted(() -> assertThat(resultsOf(results, jobId)).isNotEmpty());
        return resultsOf(results, jobId).get(0);
    }

    private static List<JobResult> resultsOf(TopicProbe.Reader results, String jobId) {
        return read(results, JobResult.class).stream()
                .filter(r -> r.jobId().equals(jobId))
                .toList();
    }

    static <T> List<T> read(TopicProbe.Reader reader, Class<T> type) {
        return reader.poll().stream()
                .map(ConsumerRecord::value)
                .map(v -> {
                    try {
                        return CODEC.read(v, type);
                    } catch (Exception e) {
                        return null;
                    }
                })
                .filter(Objects::nonNull)
                .toList();
    }
}
