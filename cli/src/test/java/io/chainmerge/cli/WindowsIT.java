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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A campaign with windows in time, real broker, real coordinator and worker: nothing heavy is published
 * before the first window; the merge running at its end stops resumably (its child still there, its
 * chain reading the same) and nothing new is published in the gap; in the next window the stopped merge
 * resumes and finishes, then the next one runs, each published once.
 */
class WindowsIT {
    private static final Topics TOPICS = new Topics("chainmerge");
    private static final DateTimeFormatter CLOCK =
            DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    @TempDir
    Path work;

    @Test
    void aMergeOutsideItsWindowStopsResumablyAndFinishesInTheNext() throws Exception {
        Path volume = Files.createDirectories(work.resolve("vol"));
        List<Path> children = new ArrayList<>();
        List<String> before = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Path root = Chains.root(volume.resolve("vm" + i + ".vhdx"), 30 + i, 2);
            Path child = Chains.child(volume.resolve("vm" + i + "_1.avhdx"), root, 40 + i, 16);
            children.add(child);
            before.add(DemoFleet.digest(child));
        }
        Map<String, Object> coordinatorSettings =
                new HashMap<>(CampaignScenario.coordinatorSettings(broker.bootstrapServers()));
        coordinatorSettings.put("topics.partitions", 1);
        Map<String, Object> workerSettings = new HashMap<>(
                CampaignScenario.workerSettings("windows", "w", List.of(volume), broker.bootstrapServers(), "0"));
        workerSettings.put("topics.partitions", 1);
        try (Coordinator coordinator = Coordinator.start(CoordinatorConfig.of(coordinatorSettings));
                Worker worker = Worker.start(WorkerConfig.of(workerSettings));
                TopicProbe.Reader jobs = broker.probe().reader(TOPICS.jobs("windows"));
                TopicProbe.Reader results = broker.probe().reader(TOPICS.results())) {
            CampaignClient client = new CampaignClient(
                    "http://127.0.0.1:" + coordinator.httpPort(), ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
            // Each merge takes 8 s at this rate: the first window (5 s) ends in the middle of the first one.
            // Whole seconds: the windows are written to the second.
            Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
            Instant firstOpens = now.plusSeconds(12);
            Instant firstCloses = firstOpens.plusSeconds(5);
            Instant secondOpens = firstCloses.plusSeconds(12);
            String id = client.submit(
                    """
                    name: windows
                    pools: [windows]
                    action: merge-to-root
                    rate: 2MiB/s
                    windows: ["%s-%s", "%s-%s"]
                    timeZone: UTC
                    """
                            .formatted(
                                    CLOCK.format(firstOpens),
                                    CLOCK.format(firstCloses),
                                    CLOCK.format(secondOpens),
                                    CLOCK.format(secondOpens.plus(Duration.ofMinutes(10)))));

            await().atMost(Duration.ofSeconds(40))
                    .until(() -> !PublishedJobs.merges(jobs).isEmpty());
            Instant firstSeen = Instant.now();
            List<MergeJob> published = PublishedJobs.merges(jobs);
            assertThat(firstSeen).as("nothing heavy before the window").isAfter(firstOpens);
            assertThat(published).hasSize(1).allSatisfy(j -> assertThat(j.windows())
                    .isNotNull());
            Path running = Path.of(published.get(0).child());
            String runningReal = running.toRealPath().toString();

            // In the gap: the running merge has stopped, resumably, and nothing else went out.
            await().atMost(Duration.ofSeconds(30)).until(() -> Instant.now().isAfter(firstCloses.plusSeconds(3)));
            assertThat(Instant.now())
                    .as("the machine is too slow for this test's gap")
                    .isBefore(secondOpens);
            assertThat(PublishedJobs.merges(jobs)).hasSize(1);
            assertThat(running).exists();
            assertThat(DemoFleet.digest(running)).isEqualTo(before.get(children.indexOf(running)));
            assertThat(client.show(id).totals().merged()).isZero();
            assertThat(PublishedJobs.results(results))
                    .as("no merge result while stopped")
                    .noneMatch(r -> r.kind() == JobKind.MERGE);

            await().atMost(Duration.ofSeconds(120)).until(() -> client.show(id).state() == CampaignState.FINISHED);
            CampaignReport report = client.show(id);
            assertThat(report.totals().merged()).isEqualTo(2);
            assertThat(report.jobs())
                    .filteredOn(j -> j.kind().equals("merge"))
                    .extracting(JobView::attempts)
                    .containsExactly(1, 1);
            List<JobResult> merged = PublishedJobs.results(results).stream()
                    .filter(r -> r.kind() == JobKind.MERGE)
                    .toList();
            assertThat(merged).hasSize(2).allSatisfy(r -> {
                assertThat(r.outcome()).isEqualTo(Outcome.SUCCEEDED);
                assertThat(r.startedAt()).as("run in the second window").isAfterOrEqualTo(secondOpens);
            });
            assertThat(merged)
                    .filteredOn(r -> r.merge().removed().contains(runningReal))
                    .singleElement()
                    .satisfies(r -> assertThat(r.merge().resumed()).isTrue());
        }
        for (Path child : children) {
            assertThat(child).doesNotExist();
        }
    }
}
