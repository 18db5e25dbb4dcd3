package io.chainmerge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.TransplantJob;
import io.chainmerge.common.message.TransplantMode;
import io.chainmerge.common.message.TransplantSource;
import io.chainmerge.common.security.ThrowawayPki;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.ChildJvm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Kills a transplant at each of its steps, on the receiving worker and on the sending one, each in its
 * own JVM: what is left must be the old layout or the new one (the chain reads the same through
 * whichever top exists, and no child points at nothing), and running the same job again finishes it.
 */
class TransplantCrashIT {
    private static final MessageCodec CODEC = new MessageCodec(new JsonCodec());

    @TempDir
    Path dir;

    private Path volA;
    private Path volB;
    private Path root;
    private Path child;
    private Path top;
    private String before;
    private ThrowawayPki.CapabilityKeys keys;

    @BeforeEach
    void chain() throws IOException {
        keys = ThrowawayPki.create(dir.resolve("pki")).capabilityKeys("coordinator");
        volA = Files.createDirectories(dir.resolve("a")).toRealPath();
        volB = Files.createDirectories(dir.resolve("b")).toRealPath();
        Path vm = Files.createDirectories(volA.resolve("vm"));
        // Small, so a kill test costs little more than its JVMs, yet every file spans several copy chunks.
        ChainFixture chain = ChainFixture.withRoot(
                        vm, "vm.vhdx", DiskSpec.dynamic(12 << 20).withBlockSize(1 << 20), 11)
                .write(12)
                .child("vm_1.avhdx")
                .write(12)
                .child("vm_2.avhdx")
                .write(6);
        root = chain.file(0);
        child = chain.file(1);
        top = chain.file(2);
        before = SampleDisks.digest(top);
    }

    /**
     * Same worker: vm.vhdx and vm_1.avhdx move to the other volume; vm_2.avhdx stays and is re-pointed.
     * vm_2 must read the same at every instant.
     */
    @ParameterizedTest(name = "same worker, crash at {0}")
    @ValueSource(
            strings = {
                "transplant.planned",
                "transplant.copying#2",
                "transplant.copied#1",
                "transplant.copy-linked",
                "transplant.repointed",
                "transplant.source-removed#1"
            })
    void aSameWorkerMoveKilledAtAnyStepLeavesAReadableChainAndFinishesWhenRunAgain(String crashAt) throws Exception {
        TransplantJob job = job(List.of(child, root), null);
        Path jobFile = write(job);

        ChildJvm.Outcome crashed = receive(crashAt, jobFile, volA, volB);
        assertThat(crashed.exitStatus()).as(crashed.output()).isEqualTo(CrashPoints.EXIT_STATUS);
        assertThat(SampleDisks.digest(top))
                .as("the chain after a crash at " + crashAt)
                .isEqualTo(before);

        JobResult result = resultOf(receive(null, jobFile, volA, volB));
        assertThat(result.outcome()).as(String.valueOf(result.problem())).isEqualTo(Outcome.SUCCEEDED);
        assertThat(result.transplant().resumed()).isTrue();
        assertThat(root).doesNotExist();
        assertThat(child).doesNotExist();
        assertThat(result.resultingChain())
                .containsExactly(
                        volB.resolve("vm/vm_1.avhdx").toString(),
                        volB.resolve("vm/vm.vhdx").toString());
        assertThat(SampleDisks.digest(top)).isEqualTo(before);
        assertThat(Files.list(volB.resolve("vm")).map(p -> p.getFileName().toString()))
                .containsExactlyInAnyOrder("vm.vhdx", "vm_1.avhdx");
    }

    /**
     * Another worker: the whole chain moves from a (the sender) to b (the receiver); either may die.
     * Whatever is left, the top on a or its copy on b reads the same, and a's files are whole.
     */
    @ParameterizedTest(name = "across workers, crash at {0}")
    @ValueSource(
            strings = {
                "receiver:transfer.receiving#3",
                "receiver:transplant.linked",
                "receiver:transplant.source-removed#1",
                "sender:transfer.serving#2",
                "sender:transfer.removed#1"
            })
    void aTransferKilledOnEitherWorkerLeavesAReadableChainAndFinishesWhenRunAgain(String where) throws Exception {
        String side = where.substring(0, where.indexOf(':'));
        String crashAt = where.substring(where.indexOf(':') + 1);
        Process sender = serve(side.equals("sender") ? crashAt : null);
        try {
            TransplantJob job = job(List.of(top, child, root), "http://127.0.0.1:" + portOf(sender));
            Path jobFile = write(job);
            ChildJvm.Outcome first = receive(side.equals("receiver") ? crashAt : null, jobFile, volB);
            if (side.equals("receiver")) {
                assertThat(first.exitStatus()).as(first.output()).isEqualTo(CrashPoints.EXIT_STATUS);
            } else {
                assertThat(sender.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(sender.exitValue()).isEqualTo(CrashPoints.EXIT_STATUS);
                JobResult failed = resultOf(first);
                assertThat(failed.outcome()).isEqualTo(Outcome.FAILED);
                assertThat(failed.problem().reason()).isIn("transfer-failed", "io-error");
            }
            assertReadableSomewhere();
            if (!sender.isAlive()) {
                sender = serve(null);
                job = job(List.of(top, child, root), "http://127.0.0.1:" + portOf(sender));
                write(job);
            }
            JobResult result = resultOf(receive(null, jobFile, volB));
            assertThat(result.outcome()).as(String.valueOf(result.problem())).isEqualTo(Outcome.SUCCEEDED);
            assertThat(List.of(top, child, root)).allSatisfy(p -> assertThat(p).doesNotExist());
            assertThat(SampleDisks.digest(volB.resolve("vm/vm_2.avhdx"))).isEqualTo(before);
            assertThat(result.transplant().files())
                    .allSatisfy(f -> assertThat(f.sha256()).hasSize(64));
            if (crashAt.startsWith("transfer.receiving")) {
                // The partial copy was continued by byte range, not fetched again.
                long total = result.transplant().files().stream()
                        .mapToLong(f -> f.bytes())
                        .sum();
                assertThat(result.transplant().bytesMoved()).isLessThan(total);
            }
        } finally {
            sender.getOutputStream().close();
            sender.waitFor(30, TimeUnit.SECONDS);
            sender.destroyForcibly();
        }
    }

    /** The sender's top reads the same if it is still there; the receiver's copy does once it is linked. */
    private void assertReadableSomewhere() throws IOException {
        Path copy = volB.resolve("vm/vm_2.avhdx");
        boolean readable = false;
        if (Files.exists(top)) {
            assertThat(SampleDisks.digest(top)).as("the sender's chain").isEqualTo(before);
            readable = true;
        }
        if (Files.exists(copy)
                && Files.exists(volB.resolve("vm/vm.vhdx"))
                && Files.exists(volB.resolve("vm/vm_1.avhdx"))) {
            try {
                readable |= SampleDisks.digest(copy).equals(before);
            } catch (IOException notLinkedYet) {
                // copies not linked yet: the sender's chain is the chain
            }
        }
        assertThat(readable).as("some whole chain reads the same").isTrue();
    }

    private TransplantJob job(List<Path> disks, String url) throws IOException {
        TransplantJob job = new TransplantJob(
                Schema.VERSION,
                "crash-" + (url == null ? "same" : "cross"),
                "ad-hoc",
                "crash-test",
                Instant.parse("2026-11-25T10:00:00Z"),
                root.toString(),
                disks.stream().map(Path::toString).toList(),
                volB.resolve("vm").toString(),
                url == null ? null : new TransplantSource("pool-a", "sender", url),
                TransplantMode.MOVE,
                0,
                0,
                new io.chainmerge.common.message.ReserveSpec(0, 0));
        return url == null ? job : TestPki.signed(job, keys.signingKey(), java.time.Duration.ofHours(1));
    }

    private Path write(TransplantJob job) throws IOException {
        return Files.write(dir.resolve("job.json"), CODEC.write(job));
    }

    private ChildJvm.Outcome receive(String crashAt, Path jobFile, Path... volumes) throws Exception {
        List<String> args = new java.util.ArrayList<>(
                List.of("run", jobFile.toString(), keys.verificationKey().toString()));
        for (Path volume : volumes) {
            args.add(volume.toString());
        }
        Process process = ChildJvm.startMain(TransplantMain.class, crashAt, args.toArray(String[]::new));
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(2, TimeUnit.MINUTES)).isTrue();
        return new ChildJvm.Outcome(process.exitValue(), output);
    }

    private Process serve(String crashAt) throws IOException {
        return ChildJvm.startMain(
                TransplantMain.class, crashAt, "serve", keys.verificationKey().toString(), volA.toString());
    }

    private static int portOf(Process sender) throws IOException {
        BufferedReader out = new BufferedReader(new InputStreamReader(sender.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        while (line != null && !line.startsWith("serving ")) {
            line = out.readLine();
        }
        assertThat(line).as("the sender's port").isNotNull();
        // keep draining the sender's output so it never blocks on a full pipe
        Thread drain = new Thread(() -> {
            try {
                while (out.readLine() != null) {
                    // discard
                }
            } catch (IOException ignored) {
                // the sender ended
            }
        });
        drain.setDaemon(true);
        drain.start();
        return Integer.parseInt(line.substring("serving ".length()).strip());
    }

    private static JobResult resultOf(ChildJvm.Outcome outcome) throws Exception {
        assertThat(outcome.exitStatus()).as(outcome.output()).isZero();
        String line = outcome.output()
                .lines()
                .filter(l -> l.startsWith("result "))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no result in:\n" + outcome.output()));
        return CODEC.read(line.substring("result ".length()).getBytes(StandardCharsets.UTF_8), JobResult.class);
    }
}
