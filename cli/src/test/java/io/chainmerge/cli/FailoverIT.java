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
import io.chainmerge.worker.Worker;
import io.chainmerge.worker.WorkerConfig;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas of one coordinator group, each a process of its own, over a real broker and a real worker:
 * the leader killed with SIGKILL mid-campaign, or frozen with SIGSTOP past its session and then woken.
 * The standby takes over and finishes the campaign; every merge ran once (one result that is not a
 * redelivery per job); every chain reads the same after as before; and the woken zombie wrote nothing
 * that a reader of the committed log sees, then exited non-zero.
 */
class FailoverIT {
    private static final MessageCodec CODEC = new MessageCodec(new JsonCodec());
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String WRITER_HEADER = "chainmerge-coordinator";

    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    @TempDir
    Path work;

    @Test
    void theLeaderKilledMidCampaignIsReplacedByTheStandbyWhichFinishesItWithEveryMergeRunOnce() throws Exception {
        Scenario scenario = new Scenario("killed");
        try (scenario) {
            String id = scenario.submitAndWaitForAMergeUnderWay();
            long killedAt = System.nanoTime();
            scenario.a.destroyForcibly(); // SIGKILL: no goodbye to the group, a transaction maybe left open
            scenario.a.waitFor();

            await().atMost(Duration.ofSeconds(30))
                    .until(() -> scenario.role(scenario.portB).equals("leader"));
            Duration takeover = Duration.ofNanos(System.nanoTime() - killedAt);
            System.out.println("FailoverIT: takeover after SIGKILL observed in " + takeover.toMillis() + " ms");
            scenario.finishesOnB(id);
        }
    }

    @Test
    void aFrozenLeaderIsReplacedAndOnceWokenWritesNothingAndExits() throws Exception {
        Scenario scenario = new Scenario("frozen");
        try (scenario) {
            String id = scenario.submitAndWaitForAMergeUnderWay();
            signal(scenario.a, "STOP");
            Instant frozenAt = Instant.now();
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> scenario.role(scenario.portB).equals("leader"));
            // Results and ticks pile up for the zombie while it sleeps: it has every reason to write on waking.
            Thread.sleep(2_000);
            signal(scenario.a, "CONT");
            assertThat(scenario.a.waitFor(60, TimeUnit.SECONDS))
                    .as("the woken leader ends itself")
                    .isTrue();
            assertThat(scenario.a.exitValue()).isNotZero();
            assertThat(Files.readString(work.resolve("a.log")))
                    .containsAnyOf("leadership lost", "fenced: another replica of coordinator group");

            scenario.finishesOnB(id);
            List<String> late = scenario.committedRecordsOf("a").stream()
                    .filter(record -> !Instant.ofEpochMilli(record.timestamp()).isBefore(frozenAt))
                    .map(record -> record.topic() + "@" + record.offset())
                    .toList();
            assertThat(scenario.committedRecordsOf("a"))
                    .as("what it wrote while it led")
                    .isNotEmpty();
            assertThat(late)
                    .as("records the zombie committed after it was frozen")
                    .isEmpty();
            assertThat(scenario.committedRecordsOf("b")).isNotEmpty();
        } finally {
            signal(scenario.a, "CONT");
        }
    }

    /** One broker, one worker in this JVM, coordinators a (started first, so it leads) and b as processes. */
    private final class Scenario implements AutoCloseable {
        final String group;
        final Topics topics;
        final Path volume;
        final Map<Path, String> before = new LinkedHashMap<>();
        final Worker worker;
        final int portA;
        final int portB;
        final Process a;
        final Process b;

        Scenario(String group) throws Exception {
            this.group = group;
            this.topics = new Topics(group);
            this.volume = Files.createDirectories(work.resolve("vol"));
            for (int vm = 0; vm < 3; vm++) {
                Path root = Chains.root(volume.resolve("vm" + vm + ".vhdx"), 10 + vm, 2);
                Path child = Chains.child(volume.resolve("vm" + vm + "_1.avhdx"), root, 20 + vm, 16);
                before.put(root, DemoFleet.digest(child));
            }
            Map<String, Object> workerSettings = new HashMap<>(CampaignScenario.workerSettings(
                    group, "w-" + group, List.of(volume), broker.bootstrapServers(), "0"));
            workerSettings.put("topics.prefix", group);
            this.worker = Worker.start(WorkerConfig.of(workerSettings));
            this.portA = freePort();
            this.portB = freePort();
            this.a = coordinator("a", portA);
            await().atMost(Duration.ofSeconds(60)).until(() -> role(portA).equals("leader"));
            this.b = coordinator("b", portB);
            await().atMost(Duration.ofSeconds(60)).until(() -> role(portB).equals("standby"));
        }

        Process coordinator(String name, int port) throws Exception {
            Map<String, Object> settings =
                    new HashMap<>(CampaignScenario.coordinatorSettings(broker.bootstrapServers()));
            settings.put("coordinator.id", name);
            settings.put("coordinator.group", group);
            settings.put("topics.prefix", group);
            settings.put("http.port", port);
            settings.put("leader.session-timeout", "3s");
            Path config = work.resolve(name + ".yaml");
            Files.writeString(config, CODEC.json().yaml().writeValueAsString(settings));
            return new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString(),
                            "-jar",
                            Path.of("target/chainmerge.jar").toAbsolutePath().toString(),
                            "coordinator",
                            "--config",
                            config.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(work.resolve(name + ".log").toFile())
                    .start();
        }

        CampaignClient client(int port) {
            return new CampaignClient("http://127.0.0.1:" + port, ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
        }

        /** Submitted through the standby, which names the leader to the CLI: the CLI follows. */
        String submitAndWaitForAMergeUnderWay() throws Exception {
            String id = client(portB)
                    .submit(
                            """
                            name: failover
                            pools: [%s]
                            action: merge-to-root
                            rate: 8MiB/s
                            """
                                    .formatted(group));
            await().atMost(Duration.ofSeconds(60)).until(() -> client(portA).show(id).jobs().stream()
                    .anyMatch(j -> j.kind().equals("merge")
                            && j.progress() != null
                            && j.progress().bytesDone() > 0));
            return id;
        }

        void finishesOnB(String id) throws Exception {
            CampaignClient client = client(portB);
            long t0 = System.nanoTime();
            await().atMost(Duration.ofSeconds(120)).until(() -> client.show(id).state() == CampaignState.FINISHED);
            System.out.println(
                    "FailoverIT: finished " + (System.nanoTime() - t0) / 1_000_000 + " ms after the takeover");
            CampaignReport report = client.show(id);
            List<JobView> merges = report.jobs().stream()
                    .filter(j -> j.kind().equals(JobKind.MERGE.wireName()))
                    .toList();
            assertThat(merges).hasSize(3).allSatisfy(j -> assertThat(j.outcome())
                    .isEqualTo(Outcome.SUCCEEDED));
            Map<String, Integer> runs = new HashMap<>();
            for (JobResult result : results()) {
                if (!result.redelivered() && result.kind() == JobKind.MERGE) {
                    runs.merge(result.jobId(), 1, Integer::sum);
                }
            }
            assertThat(runs).as("merges run, per job").hasSize(3).allSatisfy((job, count) -> assertThat(count)
                    .isEqualTo(1));
            for (Map.Entry<Path, String> chain : before.entrySet()) {
                assertThat(DemoFleet.digest(chain.getKey()))
                        .as("content of %s", chain.getKey())
                        .isEqualTo(chain.getValue());
            }
        }

        List<JobResult> results() throws Exception {
            List<JobResult> results = new ArrayList<>();
            for (ConsumerRecord<String, byte[]> record : committed(List.of(topics.results()))) {
                results.add(CODEC.read(record.value(), JobResult.class));
            }
            return results;
        }

        /** Every committed record a replica wrote: state, jobs, notifications, audit and announcements. */
        List<ConsumerRecord<String, byte[]>> committedRecordsOf(String replica) throws Exception {
            return committed(List.of(
                            topics.campaigns(),
                            topics.jobs(group),
                            topics.notifications(),
                            topics.audit(),
                            topics.leader()))
                    .stream()
                    .filter(record -> {
                        Header writer = record.headers().lastHeader(WRITER_HEADER);
                        return writer != null && new String(writer.value(), StandardCharsets.UTF_8).equals(replica);
                    })
                    .toList();
        }

        String role(int port) {
            try {
                HttpResponse<String> response = HTTP.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready"))
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                return CODEC.json()
                        .mapper()
                        .readTree(response.body())
                        .path("role")
                        .asText();
            } catch (Exception e) {
                return "down";
            }
        }

        @Override
        public void close() throws Exception {
            for (Process process : List.of(a, b)) {
                process.destroy();
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
            worker.close();
        }
    }

    /** What a read_committed reader (a follower, a worker) sees on {@code topics}, to their ends now. */
    private static List<ConsumerRecord<String, byte[]>> committed(List<String> topics) {
        try (TopicProbe probe = new TopicProbe(broker.bootstrapServers())) {
            return probe.committed(topics);
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void signal(Process process, String signal) throws Exception {
        if (!process.isAlive()) {
            return;
        }
        Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid()))
                .inheritIO()
                .start();
        assertThat(kill.waitFor()).isZero();
    }
}
