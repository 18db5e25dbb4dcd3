package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.broker.TopicProbe;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignReport.JobView;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.message.JobKind;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.topic.Topics;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import io.chainmerge.worker.Worker;
import io.chainmerge.worker.WorkerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two campaigns that both plan a merge of one chain (a fleet campaign and another one, say a colleague's)
 * with a real broker, coordinator and workers: the chain is leased to one job at a time across campaigns,
 * and across pools that mount its volume at different paths, so the second merge is not even published
 * while the first is out, its campaign says which job it waits for, and the chain is merged once.
 */
class ChainLeaseIT {
    private static final Topics TOPICS = new Topics("chainmerge");
    private static final DateTimeFormatter CLOCK =
            DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

    @TempDir
    static Path brokerDir;

    static EmbeddedKafka kafka;
    static TopicProbe probe;

    @TempDir
    Path work;

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

    @Test
    void twoCampaignsOverOneChainMergeItOnceAndTheSecondSaysWhatItWaitsFor() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path child = chain(volume, 50);
        try (Coordinator coordinator = Coordinator.start(
                        CoordinatorConfig.of(CampaignScenario.coordinatorSettings(kafka.bootstrapServers())));
                Worker worker = worker("lease", volume)) {
            campaignsRaceForOneChain(coordinator, "lease", "lease");
        }
        assertThat(child).doesNotExist();
    }

    /**
     * One volume, mounted twice on this host (a bind mount: two hosts of two pools, as far as chainmerge can
     * tell from the paths), one worker per pool: the chain is one chain to the coordinator by the volume's id.
     */
    @Test
    void twoPoolsMountingOneVolumeAtDifferentPathsMergeItsChainOnce() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path alias = Files.createDirectories(work.resolve("mnt/shared"));
        Process bind = new ProcessBuilder("mount", "--bind", volume.toString(), alias.toString())
                .redirectErrorStream(true)
                .start();
        String why = new String(bind.getInputStream().readAllBytes());
        Assumptions.assumeTrue(bind.waitFor() == 0, "a bind mount needs root: " + why);
        try {
            Path child = chain(volume, 52);
            try (Coordinator coordinator = Coordinator.start(
                            CoordinatorConfig.of(CampaignScenario.coordinatorSettings(kafka.bootstrapServers())));
                    Worker a = worker("pool-a", volume);
                    Worker b = worker("pool-b", alias)) {
                campaignsRaceForOneChain(coordinator, "pool-a", "pool-b");
            }
            assertThat(child).doesNotExist();
        } finally {
            new ProcessBuilder("umount", alias.toString()).start().waitFor();
        }
    }

    private static Path chain(Path volume, long seed) throws Exception {
        Path root = Chains.root(volume.resolve("vm.vhdx"), seed, 2);
        return Chains.child(volume.resolve("vm_1.avhdx"), root, seed + 1, 16);
    }

    private static Worker worker(String pool, Path volume) throws Exception {
        return Worker.start(WorkerConfig.of(
                CampaignScenario.workerSettings(pool, "w-" + pool, List.of(volume), kafka.bootstrapServers(), "0")));
    }

    /**
     * A campaign over {@code firstPool} and one over {@code secondPool} both plan a merge of the chain for
     * one window: while the first merge published is out, the other is not published and says which job it
     * waits for; both campaigns finish and the chain is merged once.
     */
    private static void campaignsRaceForOneChain(Coordinator coordinator, String firstPool, String secondPool)
            throws Exception {
        try (TopicProbe.Reader firstJobs = probe.reader(TOPICS.jobs(firstPool));
                TopicProbe.Reader secondJobs = probe.reader(TOPICS.jobs(secondPool));
                TopicProbe.Reader results = probe.reader(TOPICS.results())) {
            CampaignClient client = new CampaignClient(
                    "http://127.0.0.1:" + coordinator.httpPort(), ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
            // Both scan now and plan the same merge; neither may publish it before the window opens, so both
            // want the chain at once. At 2 MiB/s the merge takes about 8 s.
            Instant opens = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(12);
            String spec =
                    """
                    name: %s
                    pools: [%s]
                    action: merge-to-root
                    rate: 2MiB/s
                    windows: ["%s-%s"]
                    timeZone: UTC
                    """;
            String window = CLOCK.format(opens);
            String windowEnd = CLOCK.format(opens.plus(Duration.ofMinutes(10)));
            String first = client.submit(spec.formatted("first", firstPool, window, windowEnd));
            String second = client.submit(spec.formatted("second", secondPool, window, windowEnd));
            await().atMost(Duration.ofSeconds(40))
                    .until(() -> plannedMerge(client.show(first)).isPresent()
                            && plannedMerge(client.show(second)).isPresent());
            Set<String> campaigns = Set.of(first, second);
            Callable<List<MergeJob>> merges = () -> Stream.concat(
                            PublishedJobs.merges(firstJobs).stream(),
                            firstPool.equals(secondPool) ? Stream.empty() : PublishedJobs.merges(secondJobs).stream())
                    .filter(m -> campaigns.contains(m.campaignId()))
                    .toList();

            await().atMost(Duration.ofSeconds(40)).until(() -> !merges.call().isEmpty());
            MergeJob out = merges.call().get(0);
            String waiting = out.campaignId().equals(first) ? second : first;
            // While the first merge is out, the other campaign's merge stays planned, naming it. (Two topics are
            // read by two consumers, so which is out is judged by the records' times below, not here.)
            boolean named = false;
            Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
            while (merges.call().size() < 2) {
                Optional<JobView> held = plannedMerge(client.show(waiting));
                if (held.isPresent() && held.get().waitingFor() != null) {
                    assertThat(held.get().waitingFor())
                            .isEqualTo("its chain is held by job " + out.jobId() + " of campaign " + out.campaignId());
                    named = true;
                }
                assertThat(Instant.now()).as("the second merge published").isBefore(deadline);
                Thread.sleep(200);
            }
            assertThat(named)
                    .as("the waiting campaign named the job it waits for")
                    .isTrue();
            MergeJob later = merges.call().get(1);
            TopicProbe.Reader laterJobs = later.pool().equals(firstPool) ? firstJobs : secondJobs;
            Instant firstResult = await().atMost(Duration.ofSeconds(30))
                    .ignoreExceptions()
                    .until(() -> PublishedJobs.resultAt(results, out.jobId()), Objects::nonNull);
            assertThat(PublishedJobs.publishedAt(laterJobs, later.jobId()))
                    .as("one merge out per chain: the second published after the first's result")
                    .isAfterOrEqualTo(firstResult);
            assertThat(resultOf(results, out.jobId()).get().outcome()).isEqualTo(Outcome.SUCCEEDED);

            await().atMost(Duration.ofSeconds(60))
                    .until(() -> client.show(first).state() == CampaignState.FINISHED
                            && client.show(second).state() == CampaignState.FINISHED);
            assertThat(merges.call()).hasSize(2);
            assertThat(PublishedJobs.results(results))
                    .filteredOn(r -> campaigns.contains(r.campaignId())
                            && r.kind() == JobKind.MERGE
                            && r.outcome() == Outcome.SUCCEEDED)
                    .as("the chain is merged once")
                    .hasSize(1);
            assertThat(client.show(waiting).jobs())
                    .allSatisfy(j -> assertThat(j.waitingFor()).isNull());
        }
    }

    private static Optional<JobView> plannedMerge(CampaignReport report) {
        return report.jobs().stream().filter(j -> j.kind().equals("merge")).findFirst();
    }

    private static Optional<JobResult> resultOf(TopicProbe.Reader results, String jobId) {
        return PublishedJobs.results(results).stream()
                .filter(r -> r.jobId().equals(jobId))
                .findFirst();
    }
}
