package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.KafkaBroker;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the coordinator holds across campaigns and pools, with a real broker, coordinator and workers. Two
 * campaigns that both plan a merge of one chain (a fleet campaign and another one, say a colleague's): the
 * chain is leased to one job at a time, also across pools that mount its volume at different paths, so the
 * second merge is not even published while the first is out, its campaign says which job it waits for,
 * and the chain is merged once. Two campaigns over two pools that reach one volume: its budget
 * ({@code limits.per-volume}) holds across both.
 */
class FleetLimitsIT {
    private static final Topics TOPICS = new Topics("chainmerge");
    private static final DateTimeFormatter CLOCK =
            DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    @TempDir
    Path work;

    @Test
    void twoCampaignsOverOneChainMergeItOnceAndTheSecondSaysWhatItWaitsFor() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path child = chain(volume, "vm", 50);
        try (Coordinator coordinator = Coordinator.start(
                        CoordinatorConfig.of(CampaignScenario.coordinatorSettings(broker.bootstrapServers())));
                Worker worker = worker("lease", volume)) {
            campaignsRace(
                    coordinator,
                    "lease",
                    "*.avhdx",
                    "lease",
                    "*.avhdx",
                    1,
                    out -> "its chain is held by job " + out.jobId() + " of campaign " + out.campaignId());
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
        Path alias = bindMount(volume, work.resolve("mnt/shared"));
        try {
            Path child = chain(volume, "vm", 52);
            try (Coordinator coordinator = Coordinator.start(
                            CoordinatorConfig.of(CampaignScenario.coordinatorSettings(broker.bootstrapServers())));
                    Worker a = worker("pool-a", volume);
                    Worker b = worker("pool-b", alias)) {
                campaignsRace(
                        coordinator,
                        "pool-a",
                        "*.avhdx",
                        "pool-b",
                        "*.avhdx",
                        1,
                        out -> "its chain is held by job " + out.jobId() + " of campaign " + out.campaignId());
            }
            assertThat(child).doesNotExist();
        } finally {
            new ProcessBuilder("umount", alias.toString()).start().waitFor();
        }
    }

    /** Two chains on one volume that two pools reach, a campaign over each, and a budget of one merge per volume. */
    @Test
    void aVolumesBudgetHoldsAcrossCampaignsAndPoolsThatReachIt() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path alias = bindMount(volume, work.resolve("mnt/shared"));
        try {
            Path first = chain(volume, "vm1", 54);
            Path second = chain(volume, "vm2", 56);
            Map<String, Object> settings =
                    new HashMap<>(CampaignScenario.coordinatorSettings(broker.bootstrapServers()));
            settings.put("limits.per-volume", 1);
            try (Coordinator coordinator = Coordinator.start(CoordinatorConfig.of(settings));
                    Worker a = worker("pool-c", volume);
                    Worker b = worker("pool-d", alias)) {
                campaignsRace(
                        coordinator,
                        "pool-c",
                        "vm1_*.avhdx",
                        "pool-d",
                        "vm2_*.avhdx",
                        2,
                        out -> "its volume runs 1 merges or transplants already (limits.per-volume 1)");
            }
            assertThat(first).doesNotExist();
            assertThat(second).doesNotExist();
        } finally {
            new ProcessBuilder("umount", alias.toString()).start().waitFor();
        }
    }

    /** {@code volume} mounted again at {@code alias}; the test is skipped where mounting is not allowed. */
    private static Path bindMount(Path volume, Path alias) throws Exception {
        Files.createDirectories(alias);
        Process bind = new ProcessBuilder("mount", "--bind", volume.toString(), alias.toString())
                .redirectErrorStream(true)
                .start();
        String why = new String(bind.getInputStream().readAllBytes());
        Assumptions.assumeTrue(bind.waitFor() == 0, "a bind mount needs root: " + why);
        return alias;
    }

    private static Path chain(Path volume, String vm, long seed) throws Exception {
        Path root = Chains.root(volume.resolve(vm + ".vhdx"), seed, 2);
        return Chains.child(volume.resolve(vm + "_1.avhdx"), root, seed + 1, 16);
    }

    private static Worker worker(String pool, Path volume) throws Exception {
        return Worker.start(WorkerConfig.of(
                CampaignScenario.workerSettings(pool, "w-" + pool, List.of(volume), broker.bootstrapServers(), "0")));
    }

    /**
     * A campaign over {@code firstPool} and one over {@code secondPool} each plan one merge for the same
     * window: while the first merge published is out, the other is not published and says why ({@code
     * waiting}, given the first); both campaigns finish with {@code merged} successful merges in all.
     */
    private static void campaignsRace(
            Coordinator coordinator,
            String firstPool,
            String firstGlob,
            String secondPool,
            String secondGlob,
            int merged,
            Function<MergeJob, String> waiting)
            throws Exception {
        try (TopicProbe.Reader firstJobs = broker.probe().reader(TOPICS.jobs(firstPool));
                TopicProbe.Reader secondJobs = broker.probe().reader(TOPICS.jobs(secondPool));
                TopicProbe.Reader results = broker.probe().reader(TOPICS.results())) {
            CampaignClient client = new CampaignClient(
                    "http://127.0.0.1:" + coordinator.httpPort(), ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
            // Both scan now and plan the same merge; neither may publish it before the window opens, so both
            // want the chain at once. At 2 MiB/s the merge takes about 8 s.
            Instant opens = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(12);
            String spec =
                    """
                    name: %s
                    pools: [%s]
                    select: {glob: "%s"}
                    action: merge-to-root
                    rate: 2MiB/s
                    windows: ["%s-%s"]
                    timeZone: UTC
                    """;
            String window = CLOCK.format(opens);
            String windowEnd = CLOCK.format(opens.plus(Duration.ofMinutes(10)));
            String first = client.submit(spec.formatted("first", firstPool, firstGlob, window, windowEnd));
            String second = client.submit(spec.formatted("second", secondPool, secondGlob, window, windowEnd));
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
            String other = out.campaignId().equals(first) ? second : first;
            // While the first merge is out, the other campaign's merge stays planned, naming it. (Two topics are
            // read by two consumers, so which is out is judged by the records' times below, not here.)
            boolean named = false;
            Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
            while (merges.call().size() < 2) {
                Optional<JobView> held = plannedMerge(client.show(other));
                if (held.isPresent() && held.get().waitingFor() != null) {
                    assertThat(held.get().waitingFor()).isEqualTo(waiting.apply(out));
                    named = true;
                }
                assertThat(Instant.now()).as("the second merge published").isBefore(deadline);
                Thread.sleep(200);
            }
            assertThat(named).as("the waiting campaign said what it waits for").isTrue();
            MergeJob later = merges.call().get(1);
            TopicProbe.Reader laterJobs = later.pool().equals(firstPool) ? firstJobs : secondJobs;
            Instant firstResult = await().atMost(Duration.ofSeconds(30))
                    .ignoreExceptions()
                    .until(() -> PublishedJobs.resultAt(results, out.jobId()), Objects::nonNull);
            assertThat(PublishedJobs.publishedAt(laterJobs, later.jobId()))
                    .as("the second published after the first's result")
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
                    .hasSize(merged);
            assertThat(client.show(other).jobs())
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
