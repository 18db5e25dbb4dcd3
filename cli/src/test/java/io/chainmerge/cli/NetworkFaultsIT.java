package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.broker.FaultProxy;
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
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The network between the daemons and the broker fails during a campaign, for real: the coordinator and the
 * worker reach the broker only through a TCP proxy in this JVM ({@link FaultProxy}, on a listener the broker
 * advertises as the proxy's address), which first slows every chunk, then resets every connection, then
 * carries nothing for a while. The test's own clients reach the broker directly. Both daemons say they are not
 * ready while the broker cannot be reached, and the campaign ends with every chain merged and reading what it
 * read before, no job lost and none run twice.
 */
class NetworkFaultsIT {
    private static final Topics TOPICS = new Topics("chainmerge");
    private static final MessageCodec CODEC = new MessageCodec(new JsonCodec());
    private static final int CHAINS = 6;

    @TempDir
    static Path brokerDir;

    static EmbeddedKafka kafka;
    static TopicProbe probe;

    @TempDir
    Path work;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.startBehindProxy(brokerDir.resolve("kafka"), Map.of());
        probe = new TopicProbe(kafka.bootstrapServers());
    }

    @AfterAll
    static void stopBroker() {
        probe.close();
        kafka.close();
    }

    @Test
    void aCampaignWhoseDaemonsLoseTheBrokerMidWayFinishesWithEveryChainMergedOnce() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        List<Path> roots = new ArrayList<>();
        List<String> digests = new ArrayList<>();
        for (int i = 0; i < CHAINS; i++) {
            Path root = Chains.root(volume.resolve("vm" + i + ".vhdx"), 50 + i, 2);
            Path child = Chains.child(volume.resolve("vm" + i + "_1.avhdx"), root, 60 + i, 16);
            roots.add(root);
            digests.add(DemoFleet.digest(child));
        }
        FaultProxy network = kafka.proxy();
        String viaProxy = kafka.proxiedBootstrapServers();
        HttpClient http = HttpClient.newHttpClient();
        // One merge at a time at 8 MiB/s: about two seconds each, so the faults meet the campaign mid-way.
        String spec =
                """
                name: network
                pools: [network]
                action: merge-to-root
                limits: {perVolume: 1}
                rate: 8MiB/s
                """;
        try (Coordinator coordinator =
                        Coordinator.start(CoordinatorConfig.of(CampaignScenario.coordinatorSettings(viaProxy)));
                Worker worker = Worker.start(WorkerConfig.of(
                        CampaignScenario.workerSettings("network", "w", List.of(volume), viaProxy, "0")));
                TopicProbe.Reader results = probe.reader(TOPICS.results())) {
            CampaignClient client = new CampaignClient(
                    "http://127.0.0.1:" + coordinator.httpPort(), ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
            URI workerReady = URI.create("http://127.0.0.1:" + worker.httpPort() + "/ready");
            URI coordinatorReady = URI.create("http://127.0.0.1:" + coordinator.httpPort() + "/ready");
            String id = client.submit(spec);
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> client.show(id).totals().merged() >= 1);

            network.delay(Duration.ofMillis(150));
            Thread.sleep(2000);
            network.delay(Duration.ZERO).resetAll().blackHole();
            int mergedWhenTheHoleOpened = client.show(id).totals().merged();
            assertThat(mergedWhenTheHoleOpened).isLessThan(CHAINS);
            // Where an operator looks: both daemons turn not ready, naming the broker.
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                HttpResponse<String> answer = get(http, workerReady);
                assertThat(answer.statusCode()).isEqualTo(503);
                assertThat(answer.body()).contains("the broker does not answer");
            });
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                HttpResponse<String> answer = get(http, coordinatorReady);
                assertThat(answer.statusCode()).isEqualTo(503);
                assertThat(answer.body()).contains("the broker does not answer");
            });
            network.heal();

            await().atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> client.show(id).state() == CampaignState.FINISHED);
            CampaignReport report = client.show(id);
            assertThat(report.totals().merged()).isEqualTo(CHAINS);
            assertThat(report.totals().failed() + report.totals().refused()).isZero();
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> get(http, workerReady).statusCode() == 200
                            && get(http, coordinatorReady).statusCode() == 200);

            // Nothing run twice: one first-run result per merge (a redelivered job answers from its journal).
            List<JobResult> firstRuns = read(results).stream()
                    .filter(r -> r.campaignId().equals(id) && !r.redelivered())
                    .toList();
            assertThat(firstRuns.stream().filter(r -> r.kind() == JobKind.MERGE).map(JobResult::jobId))
                    .hasSize(CHAINS)
                    .doesNotHaveDuplicates();
            assertThat(network.resets()).isPositive();
        }
        for (int i = 0; i < CHAINS; i++) {
            assertThat(DemoFleet.digest(roots.get(i))).isEqualTo(digests.get(i));
            assertThat(volume.resolve("vm" + i + "_1.avhdx")).doesNotExist();
        }
    }

    private static HttpResponse<String> get(HttpClient http, URI uri) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
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
