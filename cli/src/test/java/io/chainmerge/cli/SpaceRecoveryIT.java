package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.common.campaign.CampaignRecovery;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignReport.JobView;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.campaign.RecoveryStatus;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.security.ThrowawayPki;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import io.chainmerge.disk.testing.Fingerprint;
import io.chainmerge.disk.testing.Oracles;
import io.chainmerge.worker.Worker;
import io.chainmerge.worker.WorkerConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Space recovery end to end, over the embedded broker: two workers whose volumes are small tmpfs mounts
 * (root only; skipped with the reason elsewhere). Pool A's volume cannot hold the growth of its merge:
 * the merge is refused, the chain is transplanted to pool B's worker over HTTPS with the transfer capability the coordinator
 * signed, merged there, and reads
 * the same data as before (libvhdi before, qemu-img after). Neither volume is ever filled, and no job
 * fails. Also: a recovery that waits for approval and survives a coordinator restart mid-way, and one
 * whose receiving worker is killed mid-transfer.
 */
class SpaceRecoveryIT {
    /** The fleet's throwaway CA and the coordinator's capability keys, as the demo makes them. */
    private static ThrowawayPki pki;

    private static ThrowawayPki.CapabilityKeys capabilityKeys;
    private static final String RESERVE = "4MiB";

    @TempDir
    static Path brokerDir;

    static EmbeddedKafka kafka;

    @TempDir
    Path work;

    private final List<Path> mounts = new ArrayList<>();
    private Path small;
    private Path roomy;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.start(brokerDir.resolve("kafka"));
        try {
            pki = ThrowawayPki.create(brokerDir.resolve("pki"));
            capabilityKeys = pki.capabilityKeys("coordinator");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stopBroker() {
        kafka.close();
    }

    @BeforeEach
    void mountTwoSmallVolumes() throws IOException {
        small = mount("a", "32m");
        roomy = mount("b", "64m");
    }

    @AfterEach
    void unmount() {
        mounts.forEach(m -> Oracles.run(List.of("umount", m.toString()), false));
    }

    private Path mount(String name, String size) throws IOException {
        Path volume = Files.createDirectories(work.resolve(name));
        Oracles.Result mount =
                Oracles.run(List.of("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", volume.toString()), false);
        Assumptions.assumeTrue(
                mount.exitCode() == 0,
                () -> "cannot mount a tmpfs here (needs root): "
                        + mount.output().strip());
        mounts.add(volume);
        return volume;
    }

    /** A chain whose merge grows the root by about 16 MiB, on a volume with about half that room. */
    private Path fullVolumeChain() throws IOException {
        Path folder = Files.createDirectories(small.resolve("vm"));
        Path root = Chains.root(folder.resolve("vm.vhdx"), 11, 4);
        Path child = Chains.child(folder.resolve("vm_1.avhdx"), root, 12, 16);
        long room = Files.getFileStore(small).getUsableSpace() - (4L << 20);
        assertThat(room)
                .as("the scenario needs a volume without room for the merge")
                .isLessThan(12L << 20);
        return child;
    }

    /** The full volume's chain, what it read through libvhdi before anything moved, and its digest. */
    private record ChainBefore(Path child, Path root, Path raw, String digest) {}

    private ChainBefore fullVolumeChainAsRead() throws IOException {
        Oracles.requireLibvhdi();
        Oracles.requireQemu();
        Path child = fullVolumeChain();
        Path root = small.resolve("vm/vm.vhdx");
        return new ChainBefore(
                child, root, Oracles.vhdiToRaw(work.resolve("before.raw"), child, root), DemoFleet.digest(child));
    }

    /** {@code merged} reads, through qemu-img, what the chain read through libvhdi before. */
    private void assertReadsAsBefore(ChainBefore before, Path merged) throws IOException {
        Path after = Oracles.qemuToRaw(merged, "vhdx", work.resolve("after.raw"));
        assertThat(Fingerprint.of(after)).isEqualTo(Fingerprint.of(before.raw()));
        assertThat(DemoFleet.digest(merged)).isEqualTo(before.digest());
    }

    @Test
    void aMergeThatCannotFitIsRefusedTransplantedToAnotherWorkerAndMergedThereWithTheSameData() throws Exception {
        ChainBefore before = fullVolumeChainAsRead();
        Path child = before.child();
        Path root = before.root();

        try (Worker a = worker("pool-a", "host-a", small);
                Worker b = worker("pool-b", "host-b", roomy);
                Coordinator coordinator = coordinator();
                FreeSpace free = new FreeSpace(small, roomy)) {
            String api = "http://127.0.0.1:" + coordinator.httpPort();
            CampaignClient client = new CampaignClient(api, ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
            String spec =
                    """
                    name: recovery
                    pools: [pool-a]
                    select: {glob: "*.avhdx"}
                    onInsufficientSpace: transplant
                    transplantTo: {pools: [pool-b], volumes: [%s]}
                    %s
                    """;

            // Before any space check the plan has nothing to plan from, and says so.
            Path specFile = Files.writeString(work.resolve("spec.yaml"), spec.formatted(roomy, ""));
            CliTest.Run blind = CliTest.chainmerge(
                    "campaign",
                    "--coordinator",
                    api,
                    "--token-file",
                    TestPrincipals.adminTokenFile(),
                    "plan",
                    specFile,
                    "--json");
            assertThat(blind.exit()).as(blind.err()).isZero();
            assertThat(blind.json().get("skips").findValuesAsText("reason")).contains("no-inventory");

            // A dry run: the worker refuses the merge for space, the recovery is explained, nothing moves.
            CampaignReport dry = finish(client, client.submit(spec.formatted(roomy, "dryRun: true")));
            assertThat(dry.recoveries()).singleElement().satisfies(r -> {
                assertThat(r.status()).isEqualTo(RecoveryStatus.DRY_RUN);
                assertThat(r.trigger()).isEqualTo("refused");
            });
            assertThat(dry.jobs()).noneMatch(j -> j.kind().equals("transplant"));
            assertThat(DemoFleet.digest(child)).isEqualTo(before.digest());

            // The plan, from the inventory the dry run's space checks left: the chain would go to host-b.
            CliTest.Run plan = CliTest.chainmerge(
                    "campaign",
                    "--coordinator",
                    api,
                    "--token-file",
                    TestPrincipals.adminTokenFile(),
                    "plan",
                    specFile,
                    "--json");
            assertThat(plan.exit()).as(plan.err()).isZero();
            JsonNode recovery = plan.json().get("recoveries").get(0);
            assertThat(recovery.get("trigger").asText()).isEqualTo("may-not-fit");
            assertThat(recovery.get("steps")
                            .get(0)
                            .get("job")
                            .get("targetFolder")
                            .asText())
                    .isEqualTo(roomy.resolve("vm").toString());
            CliTest.Run text = CliTest.chainmerge(
                    "campaign",
                    "--coordinator",
                    api,
                    "--token-file",
                    TestPrincipals.adminTokenFile(),
                    "plan",
                    specFile);
            assertThat(text.out()).contains("1 merges, 1 space recoveries").contains("move the chain of vm.vhdx");

            CampaignReport report = finish(client, client.submit(spec.formatted(roomy, "")));

            assertThat(report.totals().failed()).isZero();
            assertThat(report.totals().refused()).isZero();
            assertThat(report.totals().merged()).isEqualTo(1);
            CampaignRecovery done = report.recoveries().get(0);
            assertThat(done.status()).as(String.valueOf(done.message())).isEqualTo(RecoveryStatus.SUCCEEDED);
            assertThat(done.requiredBytes()).isGreaterThan(done.availableBytes());
            JobView refused = job(report, done.jobId());
            assertThat(refused.outcome()).isEqualTo(Outcome.REFUSED);
            assertThat(refused.reason()).isEqualTo("insufficient-space");
            assertThat(report.jobs()).noneMatch(j -> j.outcome() == Outcome.FAILED);
            JobView moved = job(report, done.steps().get(0).job().jobId());
            assertThat(moved.outcome()).isEqualTo(Outcome.SUCCEEDED);
            assertThat(moved.host()).isEqualTo("host-b");
            JobView merged = job(report, done.steps().get(1).job().jobId());
            assertThat(merged.outcome()).isEqualTo(Outcome.SUCCEEDED);
            assertThat(merged.resultingChain())
                    .containsExactly(roomy.resolve("vm/vm.vhdx").toString());

            StringWriter shown = new StringWriter();
            CampaignView.print(new PrintWriter(shown), report);
            assertThat(shown.toString())
                    .contains("recovery")
                    .contains("[succeeded]")
                    .contains("merged 1, refused 0");

            assertThat(free.lowest(small)).as("free space on A").isPositive();
            // The target kept its reserve (4 MiB) but for the job journal's few kilobytes.
            assertThat(free.lowest(roomy)).as("free space on B").isGreaterThan(3L << 20);
        }
        assertThat(child).doesNotExist();
        assertThat(root).doesNotExist();
        Path merged = roomy.resolve("vm/vm.vhdx");
        assertThat(roomy.resolve("vm/vm_1.avhdx")).doesNotExist();
        assertReadsAsBefore(before, merged);
    }

    @Test
    void withMoveBackTheMergedResultReturnsToTheFolderItCameFrom() throws Exception {
        ChainBefore before = fullVolumeChainAsRead();
        Path child = before.child();
        Path root = before.root();

        try (Worker a = worker("back-a", "back-host-a", small);
                Worker b = worker("back-b", "back-host-b", roomy);
                Coordinator coordinator = coordinator();
                FreeSpace free = new FreeSpace(small, roomy)) {
            CampaignClient client = new CampaignClient(
                    "http://127.0.0.1:" + coordinator.httpPort(), ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
            CampaignReport report = finish(
                    client,
                    client.submit(
                            """
                            name: recovery-and-back
                            pools: [back-a]
                            select: {glob: "*.avhdx"}
                            onInsufficientSpace: transplant
                            transplantTo: {pools: [back-b], volumes: [%s]}
                            moveBack: true
                            """
                                    .formatted(roomy)));

            assertThat(report.totals().failed()).isZero();
            assertThat(report.totals().merged()).isEqualTo(1);
            CampaignRecovery done = report.recoveries().get(0);
            assertThat(done.status()).as(String.valueOf(done.message())).isEqualTo(RecoveryStatus.SUCCEEDED);
            assertThat(done.steps())
                    .extracting(CampaignRecovery.Step::action)
                    .containsExactly("move", "merge", "move-back");
            JobView back = job(report, done.steps().get(2).job().jobId());
            assertThat(back.outcome()).isEqualTo(Outcome.SUCCEEDED);
            assertThat(back.host()).isEqualTo("back-host-a");
            assertThat(report.jobs()).noneMatch(j -> j.outcome() == Outcome.FAILED);
            assertThat(free.lowest(small)).as("free space on A").isPositive();
            assertThat(free.lowest(roomy)).as("free space on B").isPositive();
        }
        assertThat(child).doesNotExist();
        assertThat(roomy.resolve("vm/vm.vhdx"))
                .as("nothing is left on the volume that lent its room")
                .doesNotExist();
        assertThat(roomy.resolve("vm/vm_1.avhdx")).doesNotExist();
        assertReadsAsBefore(before, root);
    }

    @Test
    void anAskedRecoveryWaitsForApprovalAndACoordinatorRestartedMidRecoveryRepeatsNoFinishedStep() throws Exception {

        Path child = fullVolumeChain();
        String digestBefore = DemoFleet.digest(child);
        String id;
        String moveJob;
        // Pools and hosts of their own: the compacted inventory still holds the other test's volumes.
        try (Worker a = worker("ask-a", "asked-a", small);
                Worker b = worker("ask-b", "asked-b", roomy)) {
            try (Coordinator coordinator = coordinator()) {
                String api = "http://127.0.0.1:" + coordinator.httpPort();
                CampaignClient client = new CampaignClient(api, ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
                id = client.submit(
                        """
                        name: ask
                        pools: [ask-a, ask-b]
                        select: {glob: "*.avhdx"}
                        onInsufficientSpace: ask
                        """);
                await().atMost(Duration.ofSeconds(60)).until(() -> client.show(id).recoveries().stream()
                        .anyMatch(r -> r.status() == RecoveryStatus.PROPOSED));
                CampaignReport waiting = client.show(id);
                assertThat(waiting.state()).isEqualTo(CampaignState.RUNNING);
                assertThat(waiting.jobs()).noneMatch(j -> j.kind().equals("transplant"));

                // Approve, then pause at once: the move goes out, the merge after it waits.
                CliTest.Run approved = CliTest.chainmerge(
                        "campaign",
                        "--coordinator",
                        api,
                        "--token-file",
                        TestPrincipals.adminTokenFile(),
                        "approve",
                        id,
                        "--json");
                assertThat(approved.exit()).as(approved.err()).isZero();
                client.act(id, "pause");
                CliTest.Run again = CliTest.chainmerge(
                        "campaign",
                        "--coordinator",
                        api,
                        "--token-file",
                        TestPrincipals.adminTokenFile(),
                        "approve",
                        id);
                assertThat(again.exit()).isEqualTo(ExitCodes.USAGE);
                assertThat(again.err()).contains("has no recovery waiting for approval");
                CampaignRecovery recovery = client.show(id).recoveries().get(0);
                moveJob = recovery.steps().get(0).job().jobId();
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> job(client.show(id), moveJob).outcome() == Outcome.SUCCEEDED);
            }
            try (Coordinator restarted = coordinator()) {
                CampaignClient client = new CampaignClient(
                        "http://127.0.0.1:" + restarted.httpPort(), ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
                client.act(id, "resume");
                CampaignReport report = finish(client, id);
                assertThat(report.recoveries().get(0).status()).isEqualTo(RecoveryStatus.SUCCEEDED);
                JobView move = job(report, moveJob);
                assertThat(report.jobs().stream().filter(j -> j.kind().equals("transplant")))
                        .hasSize(1);
                assertThat(move.outcome()).isEqualTo(Outcome.SUCCEEDED);
                assertThat(report.totals().merged()).isEqualTo(1);
                assertThat(report.totals().failed()).isZero();
            }
        }
        assertThat(DemoFleet.digest(roomy.resolve("vm/vm.vhdx"))).isEqualTo(digestBefore);
    }

    @Test
    void theReceivingWorkerKilledMidTransferIsReplacedAndTheRecoveryFinishesWithTheSameData() throws Exception {
        Path child = fullVolumeChain();
        String digestBefore = DemoFleet.digest(child);
        Path target = roomy.resolve("vm");
        Map<String, Object> receiving = settings("kill-b", "kill-b", roomy);
        receiving.put("kafka.session.timeout.ms", "3000");
        receiving.put("kafka.heartbeat.interval.ms", "500");
        Process doomed = FaultsIT.workerProcess(work, receiving, "kill-b");
        try (Worker a = worker("kill-a", "kill-a", small);
                Coordinator coordinator = coordinator()) {
            CampaignClient client = new CampaignClient(
                    "http://127.0.0.1:" + coordinator.httpPort(), ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
            // 4 MiB/s: the transfer of about 30 MiB takes long enough to be cut.
            String id = client.submit(
                    """
                    name: kill
                    pools: [kill-a, kill-b]
                    select: {glob: "*.avhdx"}
                    rate: 4MiB/s
                    onInsufficientSpace: transplant
                    """);
            await().atMost(Duration.ofSeconds(90)).until(() -> partialBytes(target) > (2L << 20));
            doomed.destroyForcibly().waitFor();
            assertThat(child).exists(); // the source is removed only after the copies are verified

            try (Worker replacement = Worker.start(WorkerConfig.of(receiving))) {
                CampaignReport report = finish(client, id);
                assertThat(report.recoveries()).singleElement().satisfies(r -> assertThat(r.status())
                        .as(String.valueOf(r.message()))
                        .isEqualTo(RecoveryStatus.SUCCEEDED));
                assertThat(report.jobs()).noneMatch(j -> j.outcome() == Outcome.FAILED);
                assertThat(report.totals().merged()).isEqualTo(1);
                assertThat(report.totals().refused()).isZero();
            }
        } finally {
            doomed.destroyForcibly();
        }
        assertThat(child).doesNotExist();
        assertThat(partialBytes(target)).isZero();
        assertThat(DemoFleet.digest(target.resolve("vm.vhdx"))).isEqualTo(digestBefore);
    }

    /** Bytes in the target folder's copies under way ({@code NAME.partial}). */
    private static long partialBytes(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            return 0;
        }
        try (var files = Files.list(folder)) {
            long total = 0;
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".partial"))
                    .toList()) {
                total += Files.size(file);
            }
            return total;
        }
    }

    private static CampaignReport finish(CampaignClient client, String id) throws Exception {
        await().atMost(Duration.ofMinutes(2))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> client.show(id).state().isOver());
        return client.show(id);
    }

    private static JobView job(CampaignReport report, String jobId) {
        return report.jobs().stream()
                .filter(j -> j.jobId().equals(jobId))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no job " + jobId + " in " + report.jobs()));
    }

    private static Worker worker(String pool, String host, Path volume) throws Exception {
        return Worker.start(WorkerConfig.of(settings(pool, host, volume)));
    }

    /**
     * A worker's settings, secure as a fleet's: its certificate, the CA, the coordinator's verification
     * key, a fixed port and the https URL other workers reach it at.
     */
    private static Map<String, Object> settings(String pool, String host, Path volume) throws IOException {
        int port = freePort();
        Map<String, Object> settings = new HashMap<>(
                CampaignScenario.workerSettings(pool, host, List.of(volume), kafka.bootstrapServers(), RESERVE));
        ThrowawayPki.Issued tls = pki.issue(host);
        settings.put("security.mode", "secure");
        settings.put("tls.certificate", tls.certificate().toString());
        settings.put("tls.key", tls.key().toString());
        settings.put("tls.ca", pki.caBundle().toString());
        settings.put(
                "transfer.verification-keys", capabilityKeys.verificationKey().toString());
        settings.put("http.port", port);
        settings.put("http.advertised-url", "https://127.0.0.1:" + port);
        return settings;
    }

    private static Coordinator coordinator() throws Exception {
        Map<String, Object> settings = new HashMap<>(CampaignScenario.coordinatorSettings(kafka.bootstrapServers()));
        settings.put("transfer.signing-key", capabilityKeys.signingKey().toString());
        return Coordinator.start(CoordinatorConfig.of(settings));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** The lowest free space each volume had while the campaign ran, sampled every 10 ms. */
    private static final class FreeSpace implements AutoCloseable {
        private final Map<Path, Long> lowest = new ConcurrentHashMap<>();
        private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();

        FreeSpace(Path... volumes) {
            sampler.scheduleAtFixedRate(
                    () -> {
                        for (Path volume : volumes) {
                            try {
                                long free = Files.getFileStore(volume).getUsableSpace();
                                lowest.merge(volume, free, Math::min);
                            } catch (IOException e) {
                                lowest.put(volume, -1L);
                            }
                        }
                    },
                    0,
                    10,
                    TimeUnit.MILLISECONDS);
        }

        long lowest(Path volume) {
            return lowest.getOrDefault(volume, -1L);
        }

        @Override
        public void close() {
            sampler.shutdownNow();
        }
    }
}
