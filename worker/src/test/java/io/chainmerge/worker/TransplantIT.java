package io.chainmerge.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.broker.FaultProxy;
import io.chainmerge.broker.TopicProbe;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.message.ReserveSpec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.TransplantJob;
import io.chainmerge.common.message.TransplantMode;
import io.chainmerge.common.message.TransplantOutcome.TransplantedFile;
import io.chainmerge.common.message.TransplantSource;
import io.chainmerge.common.security.ThrowawayPki;
import io.chainmerge.common.topic.Topics;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.Volume;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.Fingerprint;
import io.chainmerge.disk.testing.Oracles;
import io.chainmerge.disk.transplant.Transplant;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two workers, each with a small real file system (tmpfs) as its volume, and a real broker: a merge
 * that cannot fit on its volume is refused, the chain is transplanted to the other worker's volume
 * through a job on that worker's pool, merged there, and reads what it read before (libvhdi as the
 * oracle); a byte flipped in transit is detected and fetched again; a path outside the sender's roots
 * changes nothing. The workers run as a fleet does (security.mode secure): HTTPS with certificates of a
 * throwaway CA, and transfer capabilities signed by a key the test holds as the coordinator does; a
 * forged, expired or other job's capability reads and deletes nothing, and a job that names a URL its
 * capability does not sends nothing there.
 */
class TransplantIT {
    private static final long MIB = 1 << 20;
    private static final AtomicInteger RUNS = new AtomicInteger();
    private static final Topics TOPICS = new Topics("chainmerge");
    private static final MessageCodec CODEC = new MessageCodec(new JsonCodec());
    private static ThrowawayPki pki;
    private static ThrowawayPki.CapabilityKeys coordinatorKeys;
    private static ThrowawayPki.CapabilityKeys impostorKeys;

    @TempDir
    static Path brokerDir;

    static EmbeddedKafka kafka;
    static TopicProbe probe;

    @TempDir
    Path dir;

    private final List<Path> mounts = new ArrayList<>();
    private Path volA;
    private Path volB;
    private Worker workerA;
    private Worker workerB;
    private String poolA;
    private String poolB;
    private ThrowawayPki.Issued tlsA;
    private ThrowawayPki.Issued tlsB;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.start(brokerDir.resolve("kafka"));
        probe = new TopicProbe(kafka.bootstrapServers());
        try {
            pki = ThrowawayPki.create(brokerDir.resolve("pki"));
            coordinatorKeys = pki.capabilityKeys("coordinator");
            impostorKeys = pki.capabilityKeys("impostor");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stopBroker() {
        probe.close();
        kafka.close();
    }

    @BeforeEach
    void startWorkers() throws Exception {
        volA = tmpfs("a", "40m");
        volB = tmpfs("b", "64m");
        int run = RUNS.incrementAndGet();
        poolA = "transplant-it-a-" + run;
        poolB = "transplant-it-b-" + run;
        tlsA = pki.issue(poolA);
        tlsB = pki.issue(poolB);
        workerA = Worker.start(config(poolA, volA, tlsA));
        workerB = Worker.start(config(poolB, volB, tlsB));
    }

    @AfterEach
    void stopWorkers() {
        if (workerA != null) {
            workerA.close();
        }
        if (workerB != null) {
            workerB.close();
        }
        for (Path mount : mounts) {
            Oracles.run(List.of("umount", mount.toString()), false);
        }
    }

    private Path tmpfs(String name, String size) throws IOException {
        Path mount = Files.createDirectory(dir.resolve(name));
        Oracles.Result result =
                Oracles.run(List.of("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", mount.toString()), false);
        Assumptions.assumeTrue(
                result.exitCode() == 0,
                () -> "cannot mount a tmpfs here (needs root): "
                        + result.output().strip());
        mounts.add(mount);
        return mount.toRealPath();
    }

    private static WorkerConfig config(String pool, Path volume, ThrowawayPki.Issued tls) {
        return config(pool, volume, tls, Map.of());
    }

    private static WorkerConfig config(String pool, Path volume, ThrowawayPki.Issued tls, Map<String, Object> more) {
        Map<String, Object> settings = new java.util.HashMap<>(more);
        settings.putAll(Map.ofEntries(
                Map.entry("tls.certificate", tls.certificate().toString()),
                Map.entry("tls.key", tls.key().toString()),
                Map.entry("tls.ca", pki.caBundle().toString()),
                Map.entry(
                        "transfer.verification-keys",
                        List.of(coordinatorKeys.verificationKey().toString())),
                Map.entry("pool", pool),
                Map.entry("worker.id", pool + "-w"),
                Map.entry("volumes", List.of(volume.toString())),
                Map.entry("http.host", "127.0.0.1"),
                Map.entry("http.port", 0),
                Map.entry("topics.partitions", 2),
                Map.entry("in-use.quiet", "0s"),
                Map.entry("kafka.bootstrap.servers", kafka.bootstrapServers())));
        return WorkerConfig.of(settings);
    }

    /** base.vhdx with 2 MiB of data, base_1.avhdx with 12 MiB more: merging it grows the base by 12 MiB. */
    private ChainFixture chainOnA() throws IOException {
        return ChainFixture.withRoot(
                        Files.createDirectories(volA.resolve("vm")),
                        "base.vhdx",
                        DiskSpec.dynamic(32 * MIB).withBlockSize((int) MIB),
                        7)
                .writeAt(0, (int) (2 * MIB))
                .child("base_1.avhdx")
                .writeAt(8 * MIB, (int) (12 * MIB));
    }

    @Test
    void aMergeThatDoesNotFitIsTransplantedToTheOtherWorkerMergedThereAndReadsTheSame() throws Exception {
        Oracles.requireLibvhdi();
        ChainFixture chain = chainOnA();
        Path root = chain.root().toRealPath();
        Path child = chain.top().toRealPath();
        String before = rawDigest("before", child, root);
        fill(volA.resolve("filler.bin"), Volume.usableBytes(volA) - 6 * MIB);
        Map<Path, String> filesOnA = Fingerprint.ofTree(volA.resolve("vm"));
        long sizes = size(root) + size(child);

        try (TopicProbe.Reader results = probe.reader(TOPICS.results())) {
            MergeJob merge = merge("merge-on-a", poolA, root, child);
            publish(poolA, merge);
            JobResult refused = awaitResult(results, merge.jobId());
            assertThat(refused.outcome()).isEqualTo(Outcome.REFUSED);
            assertThat(refused.problem().reason()).isEqualTo("insufficient-space");
            assertThat(Fingerprint.ofTree(volA.resolve("vm"))).isEqualTo(filesOnA);
            long growth = ((Number) refused.problem().figures().get("requiredBytes")).longValue();

            TransplantJob transplant = transplant("move-to-b", List.of(child, root), urlOf(workerA), growth);
            publish(poolB, transplant);
            JobResult moved = awaitResult(results, transplant.jobId());
            assertThat(moved.outcome()).as(String.valueOf(moved.problem())).isEqualTo(Outcome.SUCCEEDED);
            assertThat(moved.kind().wireName()).isEqualTo("transplant");
            assertThat(moved.worker()).isEqualTo(poolB + "-w");
            Path newChild = volB.resolve("vm/base_1.avhdx");
            Path newRoot = volB.resolve("vm/base.vhdx");
            assertThat(moved.resultingChain()).containsExactly(newChild.toString(), newRoot.toString());
            assertThat(moved.transplant().files())
                    .extracting(TransplantedFile::from, TransplantedFile::to)
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple(child.toString(), newChild.toString()),
                            org.assertj.core.groups.Tuple.tuple(root.toString(), newRoot.toString()));
            assertThat(moved.transplant().files().get(1).sha256()).isEqualTo(Transplant.sha256(newRoot, false));
            assertThat(moved.transplant().bytesMoved()).isEqualTo(sizes);
            assertThat(moved.transplant().removed()).containsExactly(child.toString(), root.toString());
            assertThat(moved.transplant().sourceWorker()).isEqualTo(poolA + "-w");
            assertThat(child).doesNotExist();
            assertThat(root).doesNotExist();
            assertThat(rawDigest("moved", newChild, newRoot)).isEqualTo(before);

            MergeJob mergeOnB = merge("merge-on-b", poolB, newRoot, newChild);
            publish(poolB, mergeOnB);
            JobResult merged = awaitResult(results, mergeOnB.jobId());
            assertThat(merged.outcome()).as(String.valueOf(merged.problem())).isEqualTo(Outcome.SUCCEEDED);
            assertThat(merged.resultingChain()).containsExactly(newRoot.toString());
            assertThat(rawDigest("merged", newRoot)).isEqualTo(before);
        }
    }

    @Test
    void aByteFlippedInTransitIsDetectedAndTheFileFetchedAgain() throws Exception {
        ChainFixture chain = chainOnA();
        Path root = chain.root().toRealPath();
        Path child = chain.top().toRealPath();
        long sizes = size(root) + size(child);
        String before = io.chainmerge.worker.SampleDisks.digest(child);
        HttpServer proxy = flippingProxy(urlOf(workerA));
        try (TopicProbe.Reader results = probe.reader(TOPICS.results())) {
            // The coordinator would sign the URL a worker advertised; here the test signs the proxy's.
            String via = "https://127.0.0.1:" + proxy.getAddress().getPort();
            TransplantJob transplant = transplant("flipped", List.of(child, root), via, 0);
            publish(poolB, transplant);
            JobResult moved = awaitResult(results, transplant.jobId());
            assertThat(moved.outcome()).as(String.valueOf(moved.problem())).isEqualTo(Outcome.SUCCEEDED);
            assertThat(flipped).hasValue(1);
            // The damaged file came twice: once flipped and thrown away, once intact.
            assertThat(moved.transplant().bytesMoved()).isGreaterThan(sizes);
            assertThat(io.chainmerge.worker.SampleDisks.digest(volB.resolve("vm/base_1.avhdx")))
                    .isEqualTo(before);
        } finally {
            proxy.stop(0);
        }
    }

    /**
     * The network between the workers fails under a transfer (a TCP proxy, below TLS): the connection is reset
     * twice mid-file and then black-holed for a few seconds. The receiving worker resumes each broken stream by
     * byte range, saying so in its log, and the copy checks out: the move succeeds, the chain reads as before
     * on B, and no partial copy is left.
     */
    @Test
    void aTransferWhoseConnectionIsResetAndBlackHoledMidStreamResumesAndTheCopyChecksOut() throws Exception {
        ChainFixture chain = chainOnA();
        Path root = chain.root().toRealPath();
        Path child = chain.top().toRealPath();
        long sizes = size(root) + size(child);
        String before = io.chainmerge.worker.SampleDisks.digest(child);
        ch.qos.logback.classic.Logger transferLog =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(TransferClient.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
                new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        transferLog.addAppender(logged);
        try (FaultProxy proxy = FaultProxy.start(new InetSocketAddress("127.0.0.1", workerA.httpPort()));
                TopicProbe.Reader results = probe.reader(TOPICS.results());
                TopicProbe.Reader progress = probe.reader(TOPICS.progress())) {
            // Each of the next two connections is reset once it has carried 3 MiB towards B; a little delay on
            // every 16 KiB chunk keeps the transfer going for a few seconds, so the black hole meets it mid-file.
            proxy.resetAfter(3 * MIB, 2).delay(Duration.ofMillis(4));
            String via = "https://127.0.0.1:" + proxy.port();
            TransplantJob transplant = transplant("reset", List.of(child, root), via, 0);
            publish(poolB, transplant);
            await().atMost(Duration.ofSeconds(60)).until(() -> proxy.resets() == 2);
            proxy.blackHole();
            Thread.sleep(3000);
            long carriedInTheHole = proxy.bytesCarried();
            Thread.sleep(1000);
            assertThat(proxy.bytesCarried()).isEqualTo(carriedInTheHole);
            // The hole met the transfer mid-file: nothing finished while it lasted.
            assertThat(read(results).stream().filter(r -> r.jobId().equals(transplant.jobId())))
                    .isEmpty();
            proxy.heal();

            JobResult moved = awaitResult(results, transplant.jobId());
            assertThat(moved.outcome()).as(String.valueOf(moved.problem())).isEqualTo(Outcome.SUCCEEDED);
            assertThat(proxy.resets()).isEqualTo(2);
            assertThat(moved.transplant().bytesMoved()).isEqualTo(sizes);
            // Resumed, not restarted: what arrived before each reset was kept. Starting over would have carried
            // the 2 x 3 MiB again; resuming costs only TLS framing and what was in flight at each reset.
            assertThat(proxy.bytesCarried()).isLessThan(sizes + 3 * MIB);
            Path newChild = volB.resolve("vm/base_1.avhdx");
            Path newRoot = volB.resolve("vm/base.vhdx");
            // The root arrives byte for byte; the child too, then repointed at its new parent: it reads the same.
            assertThat(moved.transplant().files().get(1).sha256()).isEqualTo(Transplant.sha256(newRoot, false));
            assertThat(io.chainmerge.worker.SampleDisks.digest(newChild)).isEqualTo(before);
            try (var left = Files.list(volB.resolve("vm"))) {
                assertThat(left.map(p -> p.getFileName().toString()))
                        .containsExactlyInAnyOrder("base.vhdx", "base_1.avhdx");
            }
            assertThat(child).doesNotExist();
            assertThat(root).doesNotExist();
        } finally {
            transferLog.detachAppender(logged);
        }
        assertThat(logged.list)
                .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                .filteredOn(m -> m.contains("broke") && m.contains("resuming, reconnect"))
                .hasSize(2);
    }

    /**
     * The receiving volume fills up under a transfer (another writer takes the room after the space guard
     * passed): the copy meets ENOSPC. The job fails at once, naming the copy and the full disk rather than a
     * network fault, nothing is linked or removed, the chain on A reads as before, and the partial copy stays,
     * as docs/transplant.md says, for the same job to continue once there is room.
     */
    @Test
    void aTransferThatFillsTheReceivingVolumeFailsNamingItAndTheSameJobFinishesOnceThereIsRoom() throws Exception {
        ChainFixture chain = chainOnA();
        Path root = chain.root().toRealPath();
        Path child = chain.top().toRealPath();
        String before = io.chainmerge.worker.SampleDisks.digest(child);
        Map<Path, String> filesOnA = Fingerprint.ofTree(volA.resolve("vm"));
        Path filler = volB.resolve("filler.bin");
        try (FaultProxy proxy = FaultProxy.start(new InetSocketAddress("127.0.0.1", workerA.httpPort()));
                TopicProbe.Reader results = probe.reader(TOPICS.results())) {
            // Slow enough (4 ms per 16 KiB) that the volume fills while the first file is on its way.
            proxy.delay(Duration.ofMillis(4));
            String via = "https://127.0.0.1:" + proxy.port();
            TransplantJob transplant = transplant("enospc", List.of(child, root), via, 0);
            publish(poolB, transplant);
            await().atMost(Duration.ofSeconds(60)).until(() -> proxy.bytesCarried() > 2 * MIB);
            try {
                fill(filler, Volume.usableBytes(volB) - 256 * 1024);
            } catch (IOException full) {
                // the copy took the last of the room meanwhile: full either way
            }

            JobResult failed = awaitResult(results, transplant.jobId());
            assertThat(failed.outcome()).isEqualTo(Outcome.FAILED);
            assertThat(failed.problem().reason()).isEqualTo("io-error");
            assertThat(failed.problem().message()).contains("base_1.avhdx.partial", "No space left on device");
            assertThat(Fingerprint.ofTree(volA.resolve("vm"))).isEqualTo(filesOnA);
            try (var left = Files.list(volB.resolve("vm"))) {
                assertThat(left.map(p -> p.getFileName().toString())).containsExactly("base_1.avhdx.partial");
            }

            // Room again: the same job, delivered again, continues the partial copy and finishes.
            Files.delete(filler);
            proxy.delay(Duration.ZERO);
            publish(poolB, transplant);
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(read(results).stream()
                            .filter(r -> r.jobId().equals(transplant.jobId()))
                            .map(JobResult::outcome))
                    .contains(Outcome.SUCCEEDED));
        }
        assertThat(child).doesNotExist();
        assertThat(io.chainmerge.worker.SampleDisks.digest(volB.resolve("vm/base_1.avhdx")))
                .isEqualTo(before);
    }

    /**
     * The network between the workers goes silent for good mid-file (a black hole: no reset, nothing
     * delivered, new connections accepted and never answered). The receiver's idle timeout turns each silent
     * try into a break; silent on every try, the transplant fails transfer-failed, saying so, instead of holding
     * its job until TCP gives up (never, for a side that only reads). Nothing is left on the receiver, the
     * partial copy included, and the chain on the sender is byte for byte unchanged.
     */
    @Test
    void aTransferBlackHoledForGoodFailsAfterItsIdleTimeoutAndChangesNothing() throws Exception {
        workerB.close();
        workerB = Worker.start(config(poolB, volB, tlsB, Map.of("transfer.idle-timeout", "1s")));
        ChainFixture chain = chainOnA();
        Path root = chain.root().toRealPath();
        Path child = chain.top().toRealPath();
        Map<Path, String> filesOnA = Fingerprint.ofTree(volA.resolve("vm"));
        ch.qos.logback.classic.Logger serverLog =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(TransferServer.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> served =
                new ch.qos.logback.core.read.ListAppender<>();
        served.start();
        serverLog.addAppender(served);
        workerA.close();
        workerA = Worker.start(config(poolA, volA, tlsA, Map.of("transfer.idle-timeout", "1s")));
        try (FaultProxy proxy = FaultProxy.start(new InetSocketAddress("127.0.0.1", workerA.httpPort()));
                TopicProbe.Reader results = probe.reader(TOPICS.results())) {
            proxy.delay(Duration.ofMillis(4));
            String via = "https://127.0.0.1:" + proxy.port();
            TransplantJob transplant = transplant("silent", List.of(child, root), via, 0);
            publish(poolB, transplant);
            await().atMost(Duration.ofSeconds(60)).until(() -> proxy.bytesCarried() > 2 * MIB);
            proxy.blackHole();
            long holeStarted = System.nanoTime();

            JobResult failed = awaitResult(results, transplant.jobId());
            Duration took = Duration.ofNanos(System.nanoTime() - holeStarted);
            assertThat(failed.outcome()).isEqualTo(Outcome.FAILED);
            assertThat(failed.problem().reason()).isEqualTo("transfer-failed");
            assertThat(failed.problem().message())
                    .contains(
                            "base_1.avhdx",
                            "stayed silent for 1000 ms (transfer.idle-timeout)",
                            "partial copy was removed");
            // Five silent tries of about a second each (the body's, then four waits for headers), not minutes.
            assertThat(took).isLessThan(Duration.ofSeconds(30));
            assertThat(Fingerprint.ofTree(volA.resolve("vm"))).isEqualTo(filesOnA);
            assertNothingArrivedOnB();
            // The sender gives up too: the file's shared lock and its thread are not held while the hole lasts.
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(served.list)
                    .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                    .anyMatch(m -> m.contains("the receiver took nothing for 1000 ms")));
        } finally {
            serverLog.detachAppender(served);
        }
    }

    @Test
    void aPathOutsideTheSendersRootsChangesNothing() throws Exception {
        Path outside = Files.writeString(dir.resolve("secret.vhdx"), "not yours");
        Map<Path, String> filesOnA = Fingerprint.ofTree(volA);
        try (TopicProbe.Reader results = probe.reader(TOPICS.results())) {
            TransplantJob escape = transplant("outside", List.of(outside), urlOf(workerA), 0);
            publish(poolB, escape);
            JobResult rejected = awaitResult(results, escape.jobId());
            assertThat(rejected.outcome()).isEqualTo(Outcome.FAILED);
            assertThat(rejected.problem().reason()).isEqualTo("invalid-request");
            assertThat(rejected.problem().message()).contains("outside this worker's volume roots");
        }
        assertThat(Fingerprint.ofTree(volA)).isEqualTo(filesOnA);
        assertNothingArrivedOnB();
    }

    @Test
    void aForgedExpiredOrOtherJobsCapabilityReadsAndDeletesNothing() throws Exception {
        ChainFixture chain = chainOnA();
        Path root = chain.root().toRealPath();
        Path child = chain.top().toRealPath();
        Map<Path, String> filesOnA = Fingerprint.ofTree(volA);
        HttpClient client = trustingClient();
        String fileOfChild = urlOf(workerA) + "/transfer/v1/file?path=" + encode(child);
        String manifestOfRoot = urlOf(workerA) + "/transfer/v1/manifest?mode=move&path=" + encode(root);

        TransplantJob genuine = transplant("genuine", List.of(child, root), urlOf(workerA), 0);
        TransplantJob childOnly = transplant("child-only", List.of(child), urlOf(workerA), 0);
        TransplantJob copyOnly = sign(unsigned("copy-only", List.of(child, root), urlOf(workerA), TransplantMode.COPY));
        TransplantJob otherJob = transplant("other-job", List.of(volA.resolve("vm/other.vhdx")), urlOf(workerA), 0);
        TransplantJob forWorkerB = sign(new TransplantJob(
                Schema.VERSION,
                "for-b",
                "ad-hoc",
                poolA,
                Instant.now(),
                child.toString(),
                List.of(child.toString(), root.toString()),
                volA.toString(),
                new TransplantSource(poolB, poolB + "-w", urlOf(workerA)),
                TransplantMode.MOVE,
                0,
                0,
                null));
        String forged = new io.chainmerge.common.security.CapabilitySigner(
                        io.chainmerge.common.security.PemFiles.signingKey(impostorKeys.signingKey()),
                        Duration.ofMinutes(10),
                        java.time.Clock.systemUTC(),
                        new JsonCodec())
                .encode(new io.chainmerge.common.security.CapabilitySigner(
                                io.chainmerge.common.security.PemFiles.signingKey(impostorKeys.signingKey()),
                                Duration.ofMinutes(10),
                                java.time.Clock.systemUTC(),
                                new JsonCodec())
                        .capabilityOf(unsigned("forged", List.of(child, root), urlOf(workerA), TransplantMode.MOVE)));
        String expired = new io.chainmerge.common.security.CapabilitySigner(
                        io.chainmerge.common.security.PemFiles.signingKey(coordinatorKeys.signingKey()),
                        Duration.ofMinutes(10),
                        java.time.Clock.fixed(Instant.now().minus(Duration.ofHours(1)), java.time.ZoneOffset.UTC),
                        new JsonCodec())
                .sign(unsigned("expired", List.of(child, root), urlOf(workerA), TransplantMode.MOVE))
                .capability();

        // The genuine capability opens the file: the refusals below are about the capability, nothing else.
        assertThat(call(client, "GET", fileOfChild, genuine.capability()).statusCode())
                .isEqualTo(200);

        assertRefused(call(client, "GET", fileOfChild, null), 401);
        assertRefused(call(client, "GET", fileOfChild, forged), 403);
        assertRefused(call(client, "GET", fileOfChild, expired), 403);
        assertRefused(call(client, "GET", fileOfChild, otherJob.capability()), 403);
        assertRefused(call(client, "GET", fileOfChild, forWorkerB.capability()), 403);
        assertRefused(call(client, "GET", manifestOfRoot, childOnly.capability()), 403);
        String sha256 = Transplant.sha256(root, false);
        String deleteRoot = urlOf(workerA) + "/transfer/v1/file?path=" + encode(root) + "&sha256=" + sha256;
        assertRefused(call(client, "DELETE", deleteRoot, childOnly.capability()), 403);
        assertRefused(call(client, "DELETE", deleteRoot, copyOnly.capability()), 403);
        assertRefused(call(client, "DELETE", deleteRoot, forged), 403);
        assertThat(Fingerprint.ofTree(volA)).isEqualTo(filesOnA);

        // Through Kafka, as a forged job would come: the receiving worker refuses before it asks the source.
        try (TopicProbe.Reader results = probe.reader(TOPICS.results())) {
            TransplantJob forgedJob = unsigned("forged-job", List.of(child, root), urlOf(workerA), TransplantMode.MOVE)
                    .withCapability(forged);
            publish(poolB, forgedJob);
            JobResult refused = awaitResult(results, forgedJob.jobId());
            assertThat(refused.outcome()).isEqualTo(Outcome.REFUSED);
            assertThat(refused.problem().reason()).isEqualTo("unauthorized");
            assertThat(refused.problem().message()).contains("not signed by a key this worker trusts");
        }
        assertThat(Fingerprint.ofTree(volA)).isEqualTo(filesOnA);
        assertNothingArrivedOnB();
    }

    @Test
    void aJobNamingAUrlItsCapabilityDoesNotIsRefusedAndThatUrlSeesNothing() throws Exception {
        ChainFixture chain = chainOnA();
        Path root = chain.root().toRealPath();
        Path child = chain.top().toRealPath();
        Map<Path, String> filesOnA = Fingerprint.ofTree(volA);
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        HttpServer stranger = httpsServer("stranger");
        stranger.createContext("/", exchange -> {
            seen.add(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " "
                    + exchange.getRequestHeaders().getFirst("Authorization"));
            exchange.sendResponseHeaders(500, -1);
            exchange.close();
        });
        String strangerUrl = "https://127.0.0.1:" + stranger.getAddress().getPort();
        try (TopicProbe.Reader results = probe.reader(TOPICS.results())) {
            // A genuine capability (for worker A's URL) copied into a job that names another URL.
            TransplantJob genuine = transplant("redirected", List.of(child, root), urlOf(workerA), 0);
            TransplantJob redirected = unsigned("redirected", List.of(child, root), strangerUrl, TransplantMode.MOVE)
                    .withCapability(genuine.capability());
            TransplantJob bare = unsigned("bare", List.of(child, root), strangerUrl, TransplantMode.MOVE);
            TransplantJob clear = transplant("clear", List.of(child, root), strangerUrl.replace("https:", "http:"), 0);
            for (TransplantJob job : List.of(redirected, bare, clear)) {
                publish(poolB, job);
                JobResult refused = awaitResult(results, job.jobId());
                assertThat(refused.outcome()).as(job.jobId()).isEqualTo(Outcome.REFUSED);
                assertThat(refused.problem().reason()).isEqualTo("unauthorized");
            }
            // The TLS port is open and answers: the refusals above came from the receiving worker's check.
            assertThat(call(trustingClient(), "GET", strangerUrl + "/probe", null)
                            .statusCode())
                    .isEqualTo(500);
        } finally {
            stranger.stop(0);
        }
        assertThat(seen).containsExactly("GET /probe null");
        assertThat(Fingerprint.ofTree(volA)).isEqualTo(filesOnA);
        assertNothingArrivedOnB();
    }

    @Test
    void plainHttpToTheTlsPortIsRefused() throws Exception {
        ChainFixture chain = chainOnA();
        Path child = chain.top().toRealPath();
        TransplantJob genuine = transplant("plain", List.of(child), urlOf(workerA), 0);
        String plain = "http://127.0.0.1:" + workerA.httpPort();
        HttpClient client =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        for (String url : List.of(plain + "/health", plain + "/transfer/v1/file?path=" + encode(child))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> call(client, "GET", url, genuine.capability()))
                    .as(url)
                    .isInstanceOf(IOException.class);
        }
        assertThat(call(trustingClient(), "GET", urlOf(workerA) + "/health", null)
                        .statusCode())
                .isEqualTo(200);
    }

    @Test
    void aRenewedCertificateIsServedWithoutARestart() throws Exception {
        java.math.BigInteger first = presentedSerial(workerA.httpPort());
        ThrowawayPki.Issued renewed = pki.issue(poolA + "-renewed");
        // Key first, then the certificate: the reload waits for a pair that matches.
        Files.copy(renewed.key(), tlsA.key(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(renewed.certificate(), tlsA.certificate(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        java.math.BigInteger expected = ((java.security.cert.X509Certificate)
                        java.security.cert.CertificateFactory.getInstance("X.509")
                                .generateCertificate(Files.newInputStream(renewed.certificate())))
                .getSerialNumber();
        assertThat(expected).isNotEqualTo(first);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(presentedSerial(workerA.httpPort()))
                .isEqualTo(expected));
        assertThat(call(trustingClient(), "GET", urlOf(workerA) + "/health", null)
                        .statusCode())
                .isEqualTo(200);
    }

    @Test
    void aSecureWorkerWithoutTlsOrVerificationKeysRefusesToStart() {
        WorkerConfig bare = WorkerConfig.of(Map.of(
                "pool", poolA + "-bare",
                "volumes", List.of(volA.toString()),
                "kafka.bootstrap.servers", kafka.bootstrapServers()));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Worker.start(bare))
                .isInstanceOf(io.chainmerge.common.config.ConfigException.class)
                .hasMessageContaining("tls.certificate, tls.key, tls.ca, transfer.verification-keys")
                .hasMessageContaining("security.mode=insecure");
    }

    private static java.math.BigInteger presentedSerial(int port) throws Exception {
        javax.net.ssl.SSLContext context = io.chainmerge.common.security.PemFiles.trusting(pki.caBundle());
        try (javax.net.ssl.SSLSocket socket =
                (javax.net.ssl.SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.startHandshake();
            return ((java.security.cert.X509Certificate) socket.getSession().getPeerCertificates()[0])
                    .getSerialNumber();
        }
    }

    private void assertNothingArrivedOnB() throws IOException {
        if (!Files.exists(volB.resolve("vm"))) {
            return;
        }
        try (var arrived = Files.list(volB.resolve("vm"))) { // closed: an open folder keeps the tmpfs mounted
            assertThat(arrived.toList()).isEmpty();
        }
    }

    private static void assertRefused(HttpResponse<String> response, int status) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.body()).contains("\"reason\":\"unauthorized\"");
    }

    private static HttpResponse<String> call(HttpClient client, String method, String url, String capability)
            throws IOException, InterruptedException {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(URI.create(url)).method(method, HttpRequest.BodyPublishers.noBody());
        if (capability != null) {
            request.header("Authorization", "Bearer " + capability);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String encode(Path path) {
        return java.net.URLEncoder.encode(path.toString(), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static HttpClient trustingClient() throws IOException {
        return HttpClient.newBuilder()
                .sslContext(io.chainmerge.common.security.PemFiles.trusting(pki.caBundle()))
                .build();
    }

    /** An HTTPS server with a certificate of the fleet's CA, on a free loopback port, started. */
    private HttpServer httpsServer(String name) throws IOException {
        com.sun.net.httpserver.HttpsServer server =
                com.sun.net.httpserver.HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(
                new com.sun.net.httpserver.HttpsConfigurator(TestPki.serverContext(pki.issue(name))));
        server.start();
        return server;
    }

    private final AtomicInteger flipped = new AtomicInteger();

    /** Passes requests to {@code target}; the first file it carries arrives with one byte flipped. */
    private HttpServer flippingProxy(String target) throws IOException {
        HttpClient client = trustingClient();
        HttpServer server = httpsServer("proxy");
        server.createContext("/", exchange -> {
            try {
                HttpRequest.Builder forward = HttpRequest.newBuilder(URI.create(target + exchange.getRequestURI()))
                        .method(exchange.getRequestMethod(), HttpRequest.BodyPublishers.noBody());
                for (String header : List.of("Authorization", "Range")) {
                    String value = exchange.getRequestHeaders().getFirst(header);
                    if (value != null) {
                        forward.header(header, value);
                    }
                }
                HttpResponse<byte[]> answer = client.send(forward.build(), HttpResponse.BodyHandlers.ofByteArray());
                byte[] body = answer.body();
                if (exchange.getRequestURI().getPath().endsWith("/file")
                        && exchange.getRequestMethod().equals("GET")
                        && body.length > 0
                        && flipped.compareAndSet(0, 1)) {
                    body[body.length / 2] ^= 0x10;
                }
                answer.headers().firstValue("content-type").ifPresent(v -> exchange.getResponseHeaders()
                        .add("content-type", v));
                answer.headers().firstValue("content-range").ifPresent(v -> exchange.getResponseHeaders()
                        .add("content-range", v));
                exchange.sendResponseHeaders(answer.statusCode(), body.length == 0 ? -1 : body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                exchange.close();
            }
        });
        return server;
    }

    private static String urlOf(Worker worker) {
        return "https://127.0.0.1:" + worker.httpPort();
    }

    /** A move as the coordinator publishes it: with the capability it signs for {@code url}. */
    private TransplantJob transplant(String id, List<Path> disks, String url, long room) throws IOException {
        return sign(unsigned(id, disks, url, TransplantMode.MOVE, room));
    }

    private static TransplantJob sign(TransplantJob job) throws IOException {
        return TestPki.signed(job, coordinatorKeys.signingKey(), Duration.ofMinutes(10));
    }

    private TransplantJob unsigned(String id, List<Path> disks, String url, TransplantMode mode) {
        return unsigned(id, disks, url, mode, 0);
    }

    private TransplantJob unsigned(String id, List<Path> disks, String url, TransplantMode mode, long room) {
        TransplantJob job = new TransplantJob(
                Schema.VERSION,
                id + "-" + RUNS.get(),
                "ad-hoc",
                poolB,
                Instant.now(),
                disks.get(disks.size() - 1).toString(),
                disks.stream().map(Path::toString).toList(),
                volB.resolve("vm").toString(),
                new TransplantSource(poolA, poolA + "-w", url),
                mode,
                room,
                0,
                new ReserveSpec(MIB, 1));
        return job;
    }

    private MergeJob merge(String id, String pool, Path root, Path child) {
        return new MergeJob(
                Schema.VERSION,
                id + "-" + RUNS.get(),
                "ad-hoc",
                pool,
                Instant.now(),
                root.toString(),
                child.toString(),
                null,
                null,
                null,
                false,
                0,
                new ReserveSpec(MIB, 1));
    }

    private static void publish(String pool, Job job) {
        probe.send(TOPICS.jobs(pool), job.key(), CODEC.write(job));
    }

    private static JobResult awaitResult(TopicProbe.Reader results, String jobId) {
        List<JobResult> seen = new ArrayList<>();
        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            read(results).stream().filter(r -> r.jobId().equals(jobId)).forEach(seen::add);
            assertThat(seen).isNotEmpty();
        });
        return seen.get(0);
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

    /** SHA-256 of the chain's content as libvhdi reads it, top first. */
    private String rawDigest(String name, Path... chainTopFirst) throws IOException {
        Path raw = Oracles.vhdiToRaw(dir.resolve(name + ".raw"), chainTopFirst);
        try {
            return Transplant.sha256(raw, false);
        } finally {
            Files.delete(raw);
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void fill(Path file, long bytes) throws IOException {
        ByteBuffer ones = ByteBuffer.allocate((int) MIB);
        while (ones.hasRemaining()) {
            ones.put((byte) 1);
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long written = 0; written < bytes; ) {
                ones.clear().limit((int) Math.min(MIB, bytes - written));
                written += channel.write(ones);
            }
        }
    }
}
