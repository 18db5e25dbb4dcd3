package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.broker.TopicProbe;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignReport.JobView;
import io.chainmerge.common.campaign.CampaignSkip;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.kafka.KafkaRole;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.topic.Topics;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import io.chainmerge.worker.Worker;
import io.chainmerge.worker.WorkerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The end-to-end campaign, run against whichever real broker the subclass provides: a campaign over
 * two pools merges every chain it should, refuses what it should (space on the worker; siblings and
 * orphans in the plan) without changing those files, and its results match the files on disk.
 */
abstract class CampaignScenario {
    @TempDir
    Path work;

    abstract String bootstrapServers();

    /**
     * The {@code kafka.*} settings that name the Kafka identity of a daemon of {@code role}: none on a broker that
     * takes anyone; a subclass whose broker enforces ACLs makes a user with only that role's ACLs.
     */
    Map<String, Object> kafkaIdentity(KafkaRole role) throws Exception {
        return Map.of();
    }

    /** The settings a test's own reader of the topics connects with: the broker's address, and a login where it wants one. */
    Map<String, ?> probeSettings() {
        return Map.of("bootstrap.servers", bootstrapServers());
    }

    private Map<String, Object> as(KafkaRole role, Map<String, Object> settings) throws Exception {
        Map<String, Object> with = new java.util.HashMap<>(settings);
        with.putAll(kafkaIdentity(role));
        return with;
    }

    static Map<String, Object> workerSettings(
            String pool, String host, List<Path> volumes, String bootstrap, String reserve) {
        return Map.of(
                "pool",
                pool,
                "worker.id",
                host,
                "volumes",
                volumes.stream().map(Path::toString).toList(),
                "reserve",
                reserve,
                "http.host",
                "127.0.0.1",
                "http.port",
                0,
                "topics.partitions",
                3,
                "in-use.quiet",
                "0s",
                // A lab on one machine: plain HTTP, no transfers between workers (SpaceRecoveryIT runs secure).
                "security.mode",
                "insecure",
                "kafka.bootstrap.servers",
                bootstrap);
    }

    static Map<String, Object> coordinatorSettings(String bootstrap) {
        return Map.of(
                "http.host",
                "127.0.0.1",
                "http.port",
                0,
                "topics.partitions",
                3,
                "topics.replication",
                1,
                "tick",
                "200ms",
                "security.principals-file",
                TestPrincipals.file().toString(),
                "kafka.bootstrap.servers",
                bootstrap);
    }

    @Test
    void aCampaignOverTwoPoolsMergesWhatItShouldAndRefusesWhatItShouldWithFilesUnchanged() throws Exception {
        Path a1 = Files.createDirectories(work.resolve("a/vol1"));
        Path a2 = Files.createDirectories(work.resolve("a/vol2"));
        Path b1 = Files.createDirectories(work.resolve("b/vol1"));
        Path full = Files.createDirectories(work.resolve("b/full"));
        DemoFleet fleet = new DemoFleet();
        fleet.build(a1, a2, b1, new PrintWriter(new StringWriter()));
        // A volume whose worker keeps (nearly) all of it in reserve: the merge must be refused for space.
        Path big = Chains.root(full.resolve("big.vhdx"), 1, 2);
        Path bigChild = Chains.child(full.resolve("big_1.avhdx"), big, 2, 6);
        String bigBefore = DemoFleet.digest(bigChild);
        long bigSize = Files.size(big);
        String bootstrap = bootstrapServers();

        Topics topics = new Topics("chainmerge");
        try (Coordinator coordinator = Coordinator.start(CoordinatorConfig.of(
                        as(new KafkaRole.Coordinator(topics, "coordinator"), coordinatorSettings(bootstrap))));
                Worker a = Worker.start(WorkerConfig.of(as(
                        new KafkaRole.Worker(topics, "pool-a"),
                        workerSettings("pool-a", "host-a", List.of(a1, a2), bootstrap, "0"))));
                Worker b = Worker.start(WorkerConfig.of(as(
                        new KafkaRole.Worker(topics, "pool-b"),
                        workerSettings("pool-b", "host-b", List.of(b1), bootstrap, "0"))));
                Worker c = Worker.start(WorkerConfig.of(as(
                        new KafkaRole.Worker(topics, "pool-c"),
                        workerSettings("pool-c", "host-c", List.of(full), bootstrap, "100%"))))) {
            CampaignClient client = new CampaignClient(
                    "http://127.0.0.1:" + coordinator.httpPort(), ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
            String id = client.submit(
                    """
                    name: e2e
                    pools: [pool-a, pool-b, pool-c]
                    select: {glob: "*.avhdx"}
                    action: merge-to-root
                    limits: {perVolume: 1, perPool: 2}
                    """);
            // Followed as `campaign watch` follows it: from the coordinator's event stream, to the end.
            java.io.ByteArrayOutputStream watched = new java.io.ByteArrayOutputStream();
            CampaignReport report = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                    Duration.ofMinutes(2), () -> new CampaignWatch(
                                    client,
                                    new java.io.PrintStream(watched, true, java.nio.charset.StandardCharsets.UTF_8),
                                    false)
                            .follow(id));
            assertThat(report.state()).isEqualTo(CampaignState.FINISHED);
            assertThat(watched.toString(java.nio.charset.StandardCharsets.UTF_8))
                    .contains("campaign finished")
                    .contains("6/6 merges");
            // What the API answered along the way fits the schemas its OpenAPI document gives.
            String api = "http://127.0.0.1:" + coordinator.httpPort();
            for (String[] call : List.of(
                    new String[] {"/v1/campaigns/" + id, "CampaignReport"},
                    new String[] {"/v1/campaigns?limit=10", "CampaignPage"},
                    new String[] {"/v1/inventory?pool=pool-a", "InventoryPage"})) {
                String body = java.net.http.HttpClient.newHttpClient()
                        .send(
                                java.net.http.HttpRequest.newBuilder(java.net.URI.create(api + call[0]))
                                        .header("Authorization", "Bearer " + TestPrincipals.ADMIN_TOKEN)
                                        .build(),
                                java.net.http.HttpResponse.BodyHandlers.ofString())
                        .body();
                assertThat(OpenApiSchemas.problems(call[1], body)).as(call[0]).isEmpty();
            }

            assertThat(report.totals().merged()).isEqualTo(5);
            assertThat(report.totals().failed()).isZero();
            assertThat(report.totals().refused()).isEqualTo(1);
            JobView refused = report.jobs().stream()
                    .filter(j -> j.outcome() == Outcome.REFUSED)
                    .findFirst()
                    .orElseThrow();
            assertThat(refused.pool()).isEqualTo("pool-c");
            assertThat(refused.reason()).isEqualTo("insufficient-space");
            assertThat(refused.figures()).containsKeys("requiredBytes", "availableBytes");
            assertThat(report.skipped())
                    .extracting(
                            CampaignSkip::reason,
                            s -> Path.of(s.disk()).getFileName().toString())
                    .containsExactlyInAnyOrder(
                            org.assertj.core.groups.Tuple.tuple("siblings", "web_a.avhdx"),
                            org.assertj.core.groups.Tuple.tuple("siblings", "web_b.avhdx"),
                            org.assertj.core.groups.Tuple.tuple("missing-parent", "lost_1.avhdx"));
            // What the results say is what is on disk.
            for (JobView job : report.jobs()) {
                if (job.kind().equals("merge") && job.outcome() == Outcome.SUCCEEDED) {
                    assertThat(job.resultingChain()).isNotEmpty().allSatisfy(p -> assertThat(Path.of(p))
                            .exists());
                    assertThat(Path.of(job.child())).doesNotExist();
                    assertThat(job.bytesMerged()).isPositive();
                }
            }
            assertThat(report.totals().bytesMerged()).isPositive();
            assertThat(report.totals().reclaimedBytes()).isPositive();

            StringWriter text = new StringWriter();
            CampaignView.print(new PrintWriter(text), report);
            assertThat(text.toString())
                    .contains("merged 5, refused 1, failed 0")
                    .contains("insufficient-space (needs");
        }
        assertThat(fleet.verify(new PrintWriter(new StringWriter()))).allMatch(DemoFleet.Check::ok);
        assertThat(DemoFleet.digest(bigChild)).isEqualTo(bigBefore);
        assertThat(Files.size(big)).isEqualTo(bigSize);

        // The state topic records every result, space checks' included, and never a disk: each record small.
        int largest = 0;
        try (TopicProbe probe = new TopicProbe(probeSettings())) {
            for (ConsumerRecord<String, byte[]> record : probe.committed(List.of(topics.campaigns()))) {
                if (record.value() != null) {
                    largest = Math.max(largest, record.value().length);
                    assertThat(new String(record.value(), java.nio.charset.StandardCharsets.UTF_8))
                            .as(record.key())
                            .doesNotContain("\"disks\"");
                }
            }
        }
        assertThat(largest)
                .as("the largest record on the state topic, in bytes")
                .isLessThan(8 * 1024);
    }
}
