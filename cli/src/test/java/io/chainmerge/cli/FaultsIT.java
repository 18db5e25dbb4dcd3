package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.KafkaBroker;
import io.chainmerge.broker.TopicProbe;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.JobKind;
import io.chainmerge.common.message.JobProgress;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.message.ReserveSpec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.topic.Topics;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import io.chainmerge.disk.merge.MergeJournal;
import io.chainmerge.worker.Worker;
import io.chainmerge.worker.WorkerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** What a worker dying, a coordinator restarting and the broker going away do to work in progress: nothing lost, nothing done twice. */
class FaultsIT {
    private static final Topics TOPICS = new Topics("chainmerge");
    private static final MessageCodec CODEC = new MessageCodec(new JsonCodec());

    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    @TempDir
    Path work;

    @Test
    void aWorkerKilledMidMergeLeavesItToAnotherWorkerOfThePoolWhichFinishesIt() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path root = Chains.root(volume.resolve("vm.vhdx"), 1, 4);
        Path child = Chains.child(volume.resolve("vm_1.avhdx"), root, 2, 48);
        String before = DemoFleet.digest(child);
        Map<String, Object> settings = new HashMap<>(
                CampaignScenario.workerSettings("kill", "doomed", List.of(volume), broker.bootstrapServers(), "0"));
        settings.put("topics.partitions", 1);
        settings.put("kafka.session.timeout.ms", "3000");
        settings.put("kafka.heartbeat.interval.ms", "500");
        MergeJob job = merge("kill", child, root, 8L << 20);

        Process doomed = workerProcess(work, settings, "doomed");
        try (TopicProbe.Reader results = broker.probe().reader(TOPICS.results());
                TopicProbe.Reader progress = broker.probe().reader(TOPICS.progress())) {
            broker.probe().send(TOPICS.jobs("kill"), job.key(), CODEC.write(job));
            // The child JVM is copying: it reports progress and the engine's journal is on the volume.
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> read(progress, JobProgress.class).stream()
                                    .anyMatch(p -> p.jobId().equals(job.jobId())
                                            && p.worker().equals("doomed"))
                            && Files.exists(MergeJournal.pathFor(child)));
            doomed.destroyForcibly().waitFor();
            assertThat(resultsOf(results, job.jobId())).isEmpty();

            settings.put("worker.id", "survivor");
            try (Worker survivor = Worker.start(WorkerConfig.of(settings))) {
                await().atMost(Duration.ofSeconds(90))
                        .until(() -> !resultsOf(results, job.jobId()).isEmpty());
                JobResult result = resultsOf(results, job.jobId()).get(0);
                assertThat(result.worker()).isEqualTo("survivor");
                assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
                assertThat(result.merge().resumed()).isTrue();
            }
        } finally {
            doomed.destroyForcibly();
        }
        assertThat(child).doesNotExist();
        assertThat(MergeJournal.pathFor(child)).doesNotExist();
        assertThat(DemoFleet.digest(root)).isEqualTo(before);
    }

    @Test
    void sigtermInterruptsARunningMergeResumablyAndLeavesTheGroupAtOnce() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path root = Chains.root(volume.resolve("app.vhdx"), 40, 4);
        Path child = Chains.child(volume.resolve("app_1.avhdx"), root, 41, 64);
        String before = DemoFleet.digest(child);
        Map<String, Object> settings = new HashMap<>(
                CampaignScenario.workerSettings("term", "stopping", List.of(volume), broker.bootstrapServers(), "0"));
        settings.put("topics.partitions", 1);
        settings.put("shutdown.grace", "1s");
        // A long session: only leaving the group explicitly (not a timeout) lets the next worker in quickly.
        settings.put("kafka.session.timeout.ms", "60000");
        MergeJob job = merge("term", child, root, 8L << 20);

        Process stopping = workerProcess(work, settings, "stopping");
        try (TopicProbe.Reader results = broker.probe().reader(TOPICS.results());
                TopicProbe.Reader progress = broker.probe().reader(TOPICS.progress())) {
            broker.probe().send(TOPICS.jobs("term"), job.key(), CODEC.write(job));
            await().atMost(Duration.ofSeconds(60)).until(() -> read(progress, JobProgress.class).stream()
                    .anyMatch(p -> p.jobId().equals(job.jobId())));
            stopping.destroy(); // SIGTERM
            assertThat(stopping.waitFor(60, java.util.concurrent.TimeUnit.SECONDS))
                    .isTrue();
            // Interrupted between windows, journaled: nothing reported, the engine's journal waits on the volume.
            assertThat(resultsOf(results, job.jobId())).isEmpty();
            assertThat(MergeJournal.pathFor(child)).exists();
            assertThat(Files.readString(work.resolve("stopping.log")))
                    .contains("worker stopping")
                    .contains("stopped");

            settings.put("worker.id", "next");
            try (Worker next = Worker.start(WorkerConfig.of(settings))) {
                // Well within the 60 s session: the stopped worker left its group rather than timing out of it.
                await().atMost(Duration.ofSeconds(40))
                        .until(() -> !resultsOf(results, job.jobId()).isEmpty());
                JobResult result = resultsOf(results, job.jobId()).get(0);
                assertThat(result.worker()).isEqualTo("next");
                assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
                assertThat(result.merge().resumed()).isTrue();
            }
        } finally {
            stopping.destroyForcibly();
        }
        assertThat(child).doesNotExist();
        assertThat(DemoFleet.digest(root)).isEqualTo(before);
    }

    @Test
    void aCoordinatorRestartedMidCampaignCarriesOnWithoutRepeatingFinishedWork() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        List<Path> roots = new ArrayList<>();
        List<String> digests = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Path root = Chains.root(volume.resolve("vm" + i + ".vhdx"), 10 + i, 2);
            Path child = Chains.child(volume.resolve("vm" + i + "_1.avhdx"), root, 20 + i, 16);
            roots.add(root);
            digests.add(DemoFleet.digest(child));
        }
        String bootstrap = broker.bootstrapServers();
        Map<String, Object> coordinatorSettings = new HashMap<>(CampaignScenario.coordinatorSettings(bootstrap));
        coordinatorSettings.put("coordinator.id", "restarting");
        String spec =
                """
                name: restart
                pools: [restart]
                action: merge-to-root
                limits: {perVolume: 1}
                rate: 16MiB/s
                """;
        try (Worker worker = Worker.start(WorkerConfig.of(
                        CampaignScenario.workerSettings("restart", "w", List.of(volume), bootstrap, "0")));
                TopicProbe.Reader results = broker.probe().reader(TOPICS.results())) {
            String id;
            try (Coordinator first = Coordinator.start(CoordinatorConfig.of(coordinatorSettings))) {
                CampaignClient client = client(first);
                id = client.submit(spec);
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    CampaignReport report = client.show(id);
                    return report.totals().merged() >= 1 && report.state() == CampaignState.RUNNING;
                });
            }
            try (Coordinator second = Coordinator.start(CoordinatorConfig.of(coordinatorSettings))) {
                CampaignClient client = client(second);
                await().atMost(Duration.ofSeconds(90))
                        .until(() -> client.show(id).state() == CampaignState.FINISHED);
                CampaignReport report = client.show(id);
                assertThat(report.totals().merged()).isEqualTo(4);
                assertThat(report.totals().failed() + report.totals().refused()).isZero();
            }
            // Every job ran once: no result of a second run (a redelivered job answers from its journal).
            List<JobResult> ofCampaign = read(results, JobResult.class).stream()
                    .filter(r -> r.campaignId().equals(id) && !r.redelivered())
                    .toList();
            assertThat(ofCampaign.stream().filter(r -> r.kind() == JobKind.SPACE_CHECK))
                    .hasSize(1);
            assertThat(ofCampaign.stream()
                            .filter(r -> r.kind() == JobKind.MERGE)
                            .map(JobResult::jobId))
                    .hasSize(4)
                    .doesNotHaveDuplicates();
        }
        for (int i = 0; i < 4; i++) {
            assertThat(DemoFleet.digest(roots.get(i))).isEqualTo(digests.get(i));
        }
    }

    /**
     * A worker whose job consumer dies never stalls its pool silently. Two workers given the same static
     * group membership (an operator's copy-paste, kafka.group.instance.id) fence each other: the older
     * one's consumer gets a fatal FencedInstanceIdException from the broker. In this process that worker
     * turns not ready, naming why; as {@code chainmerge worker} in its own JVM it exits non-zero.
     */
    @Test
    void aWorkerWhoseConsumerDiesIsNotReadyAndItsProcessExitsNonZero() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        Map<String, Object> settings = new HashMap<>(
                CampaignScenario.workerSettings("fenced", "first", List.of(volume), broker.bootstrapServers(), "0"));
        settings.put("kafka.group.instance.id", "fenced-1");
        settings.put("kafka.session.timeout.ms", "6000");
        HttpClient http = HttpClient.newHttpClient();
        try (Worker first = Worker.start(WorkerConfig.of(settings))) {
            URI ready = URI.create("http://127.0.0.1:" + first.httpPort() + "/ready");
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.ofString())
                                    .statusCode()
                            == 200);

            settings.put("worker.id", "second");
            Process second = workerProcess(work, settings, "second");
            try {
                await().atMost(Duration.ofSeconds(90))
                        .until(() -> first.died().toCompletableFuture().isDone());
                HttpResponse<String> answer =
                        http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(answer.statusCode()).isEqualTo(503);
                assertThat(answer.body()).contains("chainmerge-jobs-first stopped", "FencedInstanceId");

                settings.put("worker.id", "third");
                Process third = workerProcess(work, settings, "third");
                try {
                    assertThat(second.waitFor(90, java.util.concurrent.TimeUnit.SECONDS))
                            .as(Files.readString(work.resolve("second.log")))
                            .isTrue();
                    assertThat(second.exitValue()).isEqualTo(ExitCodes.FAILURE);
                    assertThat(Files.readString(work.resolve("second.log")))
                            .contains("chainmerge worker: exiting, chainmerge-jobs-second stopped");
                } finally {
                    third.destroy();
                    third.waitFor();
                }
            } finally {
                second.destroy();
                second.waitFor();
            }
        }
    }

    @Test
    void theBrokerGoingAwayForAWhileDelaysAMergesResultButNeitherLosesNorRepeatsIt() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path root = Chains.root(volume.resolve("db.vhdx"), 30, 2);
        Path child = Chains.child(volume.resolve("db_1.avhdx"), root, 31, 32);
        String before = DemoFleet.digest(child);
        MergeJob job = merge("outage", child, root, 8L << 20);
        HttpClient http = HttpClient.newHttpClient();
        try (Worker worker = Worker.start(WorkerConfig.of(CampaignScenario.workerSettings(
                        "outage", "w", List.of(volume), broker.bootstrapServers(), "0")));
                TopicProbe.Reader results = broker.probe().reader(TOPICS.results());
                TopicProbe.Reader progress = broker.probe().reader(TOPICS.progress())) {
            URI ready = URI.create("http://127.0.0.1:" + worker.httpPort() + "/ready");
            broker.probe().send(TOPICS.jobs("outage"), job.key(), CODEC.write(job));
            await().atMost(Duration.ofSeconds(60)).until(() -> read(progress, JobProgress.class).stream()
                    .anyMatch(p -> p.jobId().equals(job.jobId())));

            broker.kafka().stop();
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.ofString())
                                    .statusCode()
                            == 503);
            broker.kafka().restart();

            await().atMost(Duration.ofSeconds(120))
                    .until(() -> !resultsOf(results, job.jobId()).isEmpty());
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.ofString())
                                    .statusCode()
                            == 200);
            JobResult result = resultsOf(results, job.jobId()).get(0);
            assertThat(result.outcome()).isEqualTo(Outcome.SUCCEEDED);
            assertThat(resultsOf(results, job.jobId()).stream().filter(r -> !r.redelivered()))
                    .hasSize(1);
        }
        assertThat(child).doesNotExist();
        assertThat(DemoFleet.digest(root)).isEqualTo(before);
    }

    /** A worker in a JVM of its own, as {@code chainmerge worker} runs it from the packaged jar. */
    /** A worker in a JVM of its own (the built jar), logging to {@code work/NAME.log}, for tests that kill it. */
    static Process workerProcess(Path work, Map<String, Object> settings, String name) throws Exception {
        Path config = work.resolve(name + ".yaml");
        Files.writeString(config, CODEC.json().yaml().writeValueAsString(settings));
        return new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-jar",
                        Path.of("target/chainmerge.jar").toAbsolutePath().toString(),
                        "worker",
                        "--config",
                        config.toString())
                .redirectErrorStream(true)
                .redirectOutput(work.resolve(name + ".log").toFile())
                .start();
    }

    private static CampaignClient client(Coordinator coordinator) {
        return new CampaignClient(
                "http://127.0.0.1:" + coordinator.httpPort(), ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
    }

    private static MergeJob merge(String pool, Path child, Path root, long rate) {
        return new MergeJob(
                Schema.VERSION,
                "job-" + UUID.randomUUID(),
                "faults",
                pool,
                Instant.now(),
                root.toString(),
                child.toString(),
                null,
                null,
                null,
                false,
                rate,
                new ReserveSpec(0, 0));
    }

    private static List<JobResult> resultsOf(TopicProbe.Reader results, String jobId) {
        return read(results, JobResult.class).stream()
                .filter(r -> r.jobId().equals(jobId))
                .toList();
    }

    private static <T> List<T> read(TopicProbe.Reader reader, Class<T> type) {
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
