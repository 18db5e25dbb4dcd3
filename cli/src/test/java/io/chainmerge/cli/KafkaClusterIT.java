package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.BrokerMain;
import io.chainmerge.broker.EmbeddedKafka.ClusterNode;
import io.chainmerge.broker.TopicProbe;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.JobKind;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.topic.Topics;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import io.chainmerge.worker.Worker;
import io.chainmerge.worker.WorkerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A campaign over a three-node KRaft cluster (each node broker and controller, a process of its own with a
 * small heap), topics replicated three times with two in sync: the leader of the jobs topic's partition is
 * killed (SIGKILL) mid-campaign, the jobs and results topics then want three replicas in sync for a while
 * (min.insync.replicas not met: nothing is published or counted), the killed node is started again on its
 * data, then the leader of the campaigns (state)
 * topic's partition likewise. The campaign finishes with every chain merged once and reading what its child
 * read, and each restarted node is back in sync.
 */
class KafkaClusterIT {
    private static final Topics TOPICS = new Topics("chainmerge");
    private static final MessageCodec CODEC = new MessageCodec(new JsonCodec());
    private static final int CHAINS = 6;
    private static final String POOL = "cluster";

    @TempDir
    Path work;

    private final Map<Integer, Process> nodes = new HashMap<>();
    private List<ClusterNode> plan;

    @AfterEach
    void stopNodes() throws InterruptedException {
        for (Process node : nodes.values()) {
            node.destroy();
        }
        for (Process node : nodes.values()) {
            if (!node.waitFor(30, TimeUnit.SECONDS)) {
                node.destroyForcibly();
            }
        }
    }

    @Test
    void aCampaignOutlivesItsJobsAndStateLeadersKilledAndRestartedOnTheirData() throws Exception {
        plan = ClusterNode.plan(3);
        for (ClusterNode node : plan) {
            start(node);
        }
        for (ClusterNode node : plan) {
            awaitUp(node);
        }
        String bootstrap = plan.stream().map(ClusterNode::bootstrap).collect(Collectors.joining(","));

        Path volume = Files.createDirectories(work.resolve("vol"));
        List<Path> roots = new ArrayList<>();
        List<String> digests = new ArrayList<>();
        for (int i = 0; i < CHAINS; i++) {
            Path root = Chains.root(volume.resolve("vm" + i + ".vhdx"), 70 + i, 2);
            Path child = Chains.child(volume.resolve("vm" + i + "_1.avhdx"), root, 80 + i, 16);
            roots.add(root);
            digests.add(DemoFleet.digest(child));
        }
        Map<String, Object> coordinatorSettings = new HashMap<>(CampaignScenario.coordinatorSettings(bootstrap));
        coordinatorSettings.put("topics.replication", 3);
        coordinatorSettings.put("topics.partitions", 1);
        Map<String, Object> workerSettings =
                new HashMap<>(CampaignScenario.workerSettings(POOL, "w", List.of(volume), bootstrap, "0"));
        workerSettings.put("topics.partitions", 1);
        String spec =
                """
                name: cluster
                pools: [cluster]
                action: merge-to-root
                limits: {perVolume: 1}
                rate: 8MiB/s
                """;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap));
                TopicProbe probe = new TopicProbe(bootstrap);
                Coordinator coordinator = Coordinator.start(CoordinatorConfig.of(coordinatorSettings));
                Worker worker = Worker.start(WorkerConfig.of(workerSettings));
                TopicProbe.Reader results = probe.reader(TOPICS.results())) {
            CampaignClient client = new CampaignClient(
                    "http://127.0.0.1:" + coordinator.httpPort(), ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
            String id = client.submit(spec);
            await().atMost(Duration.ofSeconds(90))
                    .until(() -> client.show(id).totals().merged() >= 1);

            int jobsLeader = leader(admin, TOPICS.jobs(POOL));
            kill(jobsLeader);
            // Two nodes left (once the dead one is out of the ISR), and for a while the jobs and results topics want
            // three in sync: the brokers refuse every write there, so nothing is published or counted; then two
            // again, and the campaign goes on.
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> inSync(admin, TOPICS.jobs(POOL)) == 2 && inSync(admin, TOPICS.results()) == 2);
            minInSync(admin, 3, TOPICS.jobs(POOL), TOPICS.results());
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(refusedWrite(bootstrap))
                    .isInstanceOf(NotEnoughReplicasException.class));
            // A result the brokers took just before the change may still reach the coordinator: let it land first.
            Thread.sleep(3000);
            int mergedWhileShort = client.show(id).totals().merged();
            Thread.sleep(4000);
            assertThat(client.show(id).totals().merged()).isEqualTo(mergedWhileShort);
            minInSync(admin, 2, TOPICS.jobs(POOL), TOPICS.results());
            await().atMost(Duration.ofSeconds(90))
                    .until(() -> client.show(id).totals().merged() >= mergedWhileShort + 1);
            start(plan.get(jobsLeader - 1));
            await().atMost(Duration.ofSeconds(90)).until(() -> inSync(admin, TOPICS.jobs(POOL)) == 3);

            int stateLeader = leader(admin, TOPICS.campaigns());
            kill(stateLeader);
            await().atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> client.show(id).state() == CampaignState.FINISHED);
            start(plan.get(stateLeader - 1));
            await().atMost(Duration.ofSeconds(90)).until(() -> inSync(admin, TOPICS.campaigns()) == 3);

            CampaignReport report = client.show(id);
            assertThat(report.totals().merged()).isEqualTo(CHAINS);
            assertThat(report.totals().failed() + report.totals().refused()).isZero();
            // The probe's consumer joins its group on its first polls: read until every merge's result is there,
            // then once more, a little later, for any second run.
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> read(results).stream()
                                    .filter(r -> r.campaignId().equals(id) && r.kind() == JobKind.MERGE)
                                    .count()
                            >= CHAINS);
            Thread.sleep(2000);
            List<JobResult> firstRuns = read(results).stream()
                    .filter(r -> r.campaignId().equals(id) && !r.redelivered())
                    .toList();
            assertThat(firstRuns.stream().filter(r -> r.kind() == JobKind.MERGE).map(JobResult::jobId))
                    .hasSize(CHAINS)
                    .doesNotHaveDuplicates();
        }
        for (int i = 0; i < CHAINS; i++) {
            assertThat(DemoFleet.digest(roots.get(i))).isEqualTo(digests.get(i));
            assertThat(volume.resolve("vm" + i + "_1.avhdx")).doesNotExist();
        }
    }

    /** Node {@code node} as a process of its own, on its data folder (formatted the first time). */
    private void start(ClusterNode node) throws Exception {
        Path log = work.resolve("broker-" + node.nodeId() + ".log");
        Files.deleteIfExists(log);
        Process process = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx192m",
                        "-XX:+UseSerialGC",
                        "-XX:TieredStopAtLevel=1",
                        "-cp",
                        System.getProperty("java.class.path"),
                        BrokerMain.class.getName(),
                        work.resolve("kafka-" + node.nodeId()).toString(),
                        String.valueOf(node.nodeId()),
                        node.clusterId(),
                        String.valueOf(node.brokerPort()),
                        String.valueOf(node.controllerPort()),
                        node.voters())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        nodes.put(node.nodeId(), process);
    }

    private void awaitUp(ClusterNode node) {
        Path log = work.resolve("broker-" + node.nodeId() + ".log");
        await().atMost(Duration.ofSeconds(90))
                .until(() -> Files.exists(log) && Files.readString(log).contains("BOOTSTRAP "));
    }

    private void kill(int nodeId) throws InterruptedException {
        Process node = nodes.remove(nodeId);
        node.destroyForcibly();
        node.waitFor(30, TimeUnit.SECONDS);
    }

    private static int leader(Admin admin, String topic) {
        return await().atMost(Duration.ofSeconds(30))
                .until(() -> partition(admin, topic).leader(), Objects::nonNull)
                .id();
    }

    private static void minInSync(Admin admin, int replicas, String... topics) throws Exception {
        Map<ConfigResource, java.util.Collection<AlterConfigOp>> changes = new HashMap<>();
        for (String topic : topics) {
            changes.put(
                    new ConfigResource(ConfigResource.Type.TOPIC, topic),
                    List.of(new AlterConfigOp(
                            new ConfigEntry("min.insync.replicas", String.valueOf(replicas)),
                            AlterConfigOp.OpType.SET)));
        }
        admin.incrementalAlterConfigs(changes).all().get(30, TimeUnit.SECONDS);
    }

    /** What a write to the results topic meets (acks=all, no retries): null when it is taken. */
    private static Throwable refusedWrite(String bootstrap) throws InterruptedException {
        Map<String, Object> settings = Map.of(
                "bootstrap.servers",
                bootstrap,
                "acks",
                "all",
                "retries",
                0,
                "enable.idempotence",
                false,
                "request.timeout.ms",
                5000,
                "delivery.timeout.ms",
                10000);
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(settings, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(TOPICS.results(), "probe".getBytes(), "{}".getBytes()))
                    .get(15, TimeUnit.SECONDS);
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
            return e;
        }
    }

    private static int inSync(Admin admin, String topic) throws Exception {
        List<Node> isr = partition(admin, topic).isr();
        return isr.size();
    }

    private static TopicPartitionInfo partition(Admin admin, String topic) throws Exception {
        TopicDescription description = admin.describeTopics(List.of(topic))
                .allTopicNames()
                .get(10, TimeUnit.SECONDS)
                .get(topic);
        return description.partitions().get(0);
    }

    private static List<JobResult> read(TopicProbe.Reader reader) {
        return reader.poll().stream()
                .map(ConsumerRecord::value)
                .map(v -> {
                    try {
                        return CODEC.read(v, JobResult.class);
                    } catch (Exception e) {
                        return null;
                    }
                })
                .filter(Objects::nonNull)
                .toList();
    }
}
