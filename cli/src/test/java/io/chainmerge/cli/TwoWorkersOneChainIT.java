package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.KafkaBroker;
import io.chainmerge.broker.TopicProbe;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.message.ReserveSpec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.topic.Topics;
import java.net.ServerSocket;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two worker daemons on two hosts that share one volume, played by two JVMs with POSIX locks switched off
 * (as a {@code nolock} or {@code local_lock=all} mount leaves them) and host names of their own, each in a
 * pool of its own, so one merge job can be delivered to both at once. The job journal's entry, created by
 * a link, and the claims beside the disks keep them apart: the chain is merged once. A holder killed with
 * SIGKILL keeps the other out until its claim expires; then the other finishes the merge from the journal.
 */
class TwoWorkersOneChainIT {
    private static final Topics TOPICS = new Topics("chainmerge");
    private static final MessageCodec CODEC = new MessageCodec(new JsonCodec());
    private static final long RATE = 4L << 20; // 16 MiB of child data: about 4 s

    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    @TempDir
    Path work;

    private final List<Process> workers = new ArrayList<>();
    /** Each test's pools are its own: a job a killed worker never committed must not reach the next test. */
    private final String run = Long.toString(System.nanoTime() % 100_000);

    @AfterEach
    void stopWorkers() throws Exception {
        for (Process worker : workers) {
            worker.destroyForcibly().waitFor();
        }
    }

    @Test
    void oneJobDeliveredToTwoHostsAtOnceRunsOnceAndTheOtherAnswersFromTheJournal() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path root = Chains.root(volume.resolve("vm.vhdx"), 60, 2);
        Path child = Chains.child(volume.resolve("vm_1.avhdx"), root, 61, 16);
        String chainBefore = DemoFleet.digest(child);
        startWorker("host-a", volume);
        startWorker("host-b", volume);

        try (TopicProbe.Reader results = broker.probe().reader(TOPICS.results())) {
            for (String host : List.of("host-a", "host-b")) {
                MergeJob job = merge("j-twice", pool(host), root, child);
                broker.probe().send(TOPICS.jobs(pool(host)), job.key(), CODEC.write(job));
            }
            await().atMost(Duration.ofSeconds(120))
                    .until(() -> answers(results, "j-twice").size() >= 2);

            List<JobResult> answers = answers(results, "j-twice");
            assertThat(answers).as(answers.toString()).allSatisfy(r -> assertThat(r.outcome())
                    .isEqualTo(Outcome.SUCCEEDED));
            assertThat(answers)
                    .filteredOn(r -> !r.redelivered())
                    .as("the merge ran once: " + answers)
                    .hasSize(1);
            assertThat(answers)
                    .filteredOn(JobResult::redelivered)
                    .as("the other host answered with the journal's result")
                    .hasSize(1);
        }
        assertThat(child).doesNotExist();
        assertThat(DemoFleet.digest(root)).isEqualTo(chainBefore);
        assertThat(claimsLeft(volume)).isEmpty();
    }

    @Test
    void aHolderKilledMidMergeKeepsTheOtherHostOutUntilItsClaimExpiresThenTheMergeFinishesThere() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path root = Chains.root(volume.resolve("vm.vhdx"), 70, 2);
        Path child = Chains.child(volume.resolve("vm_1.avhdx"), root, 71, 24);
        String chainBefore = DemoFleet.digest(child);
        Process holder = startWorker("host-a", volume);
        startWorker("host-b", volume);

        try (TopicProbe.Reader results = broker.probe().reader(TOPICS.results())) {
            MergeJob first = merge("j-killed", pool("host-a"), root, child);
            broker.probe().send(TOPICS.jobs(pool("host-a")), first.key(), CODEC.write(first));
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> !claimsLeft(volume).isEmpty());
            Thread.sleep(1_000); // well into the copy
            holder.destroyForcibly().waitFor(); // SIGKILL: its journal entry and claims stay on the volume
            Instant killedAt = Instant.now();

            MergeJob again = merge("j-killed", pool("host-b"), root, child);
            broker.probe().send(TOPICS.jobs(pool("host-b")), again.key(), CODEC.write(again));
            await().atMost(Duration.ofSeconds(120))
                    .until(() -> !answers(results, "j-killed").isEmpty());

            JobResult result = answers(results, "j-killed").get(0);
            assertThat(result.worker()).isEqualTo("host-b");
            assertThat(result.outcome()).as(result.toString()).isEqualTo(Outcome.SUCCEEDED);
            assertThat(result.merge().resumed()).as("finished from the journal").isTrue();
            assertThat(result.startedAt().plus(result.duration()))
                    .as("not before the killed holder's claim expired (2 s and 1 s of grace)")
                    .isAfter(killedAt.plusSeconds(3));
        }
        assertThat(child).doesNotExist();
        assertThat(DemoFleet.digest(root)).isEqualTo(chainBefore);
        assertThat(claimsLeft(volume)).isEmpty();
    }

    /** A worker daemon as a process of its own, in a pool named after its host. */
    private Process startWorker(String host, Path volume) throws Exception {
        int port = freePort();
        Map<String, Object> settings = new HashMap<>(
                CampaignScenario.workerSettings(pool(host), host, List.of(volume), broker.bootstrapServers(), "0"));
        settings.put("http.port", port);
        settings.put("in-use.retries", 20); // 40 s of waiting for the other host
        // Two hosts do not see each other's processes; these two JVMs share one /proc, so the local probe
        // would see the other "host" and refuse for it. Only the claims may keep them apart here.
        settings.put("in-use.probes", List.of("samba", "nfs"));
        Path config = work.resolve(host + ".yaml");
        Files.writeString(config, CODEC.json().yaml().writeValueAsString(settings));
        Process process = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Dchainmerge.locks.posix=off",
                        "-Dchainmerge.claims.host=" + host,
                        "-Dchainmerge.claims.ttl=PT2S",
                        "-Dchainmerge.claims.grace=PT1S",
                        "-jar",
                        Path.of("target/chainmerge.jar").toAbsolutePath().toString(),
                        "worker",
                        "--config",
                        config.toString())
                .redirectErrorStream(true)
                .redirectOutput(work.resolve(host + ".log").toFile())
                .start();
        workers.add(process);
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready"))
                .build();
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
            assertThat(process.isAlive()).as(host + " is running").isTrue();
            return http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        });
        return process;
    }

    private String pool(String host) {
        return host + "-" + run;
    }

    private static MergeJob merge(String jobId, String pool, Path root, Path child) {
        return new MergeJob(
                Schema.VERSION,
                jobId,
                "c-two-hosts",
                pool,
                Instant.now(),
                root.toString(),
                child.toString(),
                null,
                null,
                null,
                false,
                RATE,
                new ReserveSpec(0, 0));
    }

    private static List<JobResult> answers(TopicProbe.Reader results, String jobId) {
        return PublishedJobs.results(results).stream()
                .filter(r -> r.jobId().equals(jobId))
                .toList();
    }

    private static List<Path> claimsLeft(Path volume) throws Exception {
        try (var files = Files.list(volume)) {
            return files.filter(f -> f.getFileName().toString().contains(".chainmerge-claim"))
                    .toList();
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
