package io.chainmerge.worker;

import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.disk.inuse.InUseCheck;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One side of a transplant in its own JVM, so a test can kill it at a crash point:
 *
 * <pre>
 * serve KEY VOLUME...      the sending worker's transfer endpoints; prints "serving PORT", runs until stdin closes
 * run JOBFILE KEY VOLUME...  the receiving worker runs the job with its journal, as JobExecutions does; prints "result JSON"
 * </pre>
 *
 * KEY is the PEM file of the public key the job's transfer capability is signed with. Plain HTTP
 * ({@code security.mode: insecure}): these tests are about crashes, TransplantIT covers TLS.
 *
 * <pre>
 * </pre>
 */
public final class TransplantMain {
    private static final MessageCodec CODEC = new MessageCodec(new JsonCodec());

    private TransplantMain() {}

    public static void main(String[] args) throws Exception {
        List<String> volumes = List.of(args).subList(args[0].equals("serve") ? 2 : 3, args.length);
        WorkerConfig config = WorkerConfig.of(Map.of(
                "pool",
                "crash-test",
                "worker.id",
                args[0].equals("serve") ? "sender" : "receiver",
                "volumes",
                volumes,
                "security.mode",
                "insecure",
                "transfer.verification-keys",
                args[0].equals("serve") ? args[1] : args[2],
                "http.host",
                "127.0.0.1",
                "http.port",
                0,
                "in-use.quiet",
                "0s",
                "kafka.bootstrap.servers",
                "unused:9092"));
        VolumeRoots roots = new VolumeRoots(config.volumes());
        switch (args[0]) {
            case "serve" -> serve(config, roots);
            case "run" -> run(config, roots, Path.of(args[1]));
            default -> throw new IllegalArgumentException("unknown operation " + args[0]);
        }
    }

    private static io.chainmerge.common.security.CapabilityVerifier verifier(WorkerConfig config)
            throws java.io.IOException {
        return config.security().verifier(CODEC.json(), Clock.systemUTC());
    }

    private static InUseCheck inUse(WorkerConfig config) {
        return config.inUse().check(CODEC.json().mapper(), Clock.systemUTC());
    }

    private static void serve(WorkerConfig config, VolumeRoots roots) throws Exception {
        Vertx vertx = Vertx.vertx();
        Router router = Router.router(vertx);
        new TransferServer(vertx, config, roots, inUse(config), verifier(config)).mount(router);
        HttpServer server = vertx.createHttpServer()
                .requestHandler(router)
                .listen(0, "127.0.0.1")
                .toCompletionStage()
                .toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        System.out.println("serving " + server.actualPort());
        System.out.flush();
        while (System.in.read() >= 0) {
            // until the test closes our standard input
        }
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        System.exit(0);
    }

    private static void run(WorkerConfig config, VolumeRoots roots, Path jobFile) throws Exception {
        Job job = CODEC.readJob(Files.readAllBytes(jobFile));
        Path volume = roots.volumeOf(roots.resolve(((io.chainmerge.common.message.TransplantJob) job).targetFolder()))
                .orElseThrow();
        JobJournal journal = new JobJournal(volume, CODEC);
        JobRunner runner = new JobRunner(
                config,
                roots,
                inUse(config),
                new RunningMerges(config.workerId(), () -> false),
                new TransferClient(
                        config.security().clientContext(),
                        config.security().mode() == TransferSecurity.Mode.SECURE,
                        verifier(config),
                        CODEC.json(),
                        config.transferIdleTimeout()),
                () -> false,
                () -> config.advertisedUrl(config.httpPort()),
                whole -> {
                    throw new java.io.IOException("a transplant runs no space check");
                });
        Optional<JobJournal.Entry> earlier = journal.read(job.jobId());
        JobResult result;
        if (earlier.isPresent() && earlier.get().state() == JobJournal.State.DONE) {
            result = earlier.get().result().asRedelivered();
        } else {
            JobJournal.Entry entry = earlier.isPresent()
                    ? earlier.get()
                    : journal.begin(job, config.workerId(), Instant.now()).orElseThrow();
            result = runner.run(job, journal, entry, earlier.isPresent());
            if (!JobExecutions.unfinishedTransplant(job, result)) {
                journal.write(entry.done(result));
            }
        }
        System.out.println("result " + new String(CODEC.write(result), java.nio.charset.StandardCharsets.UTF_8));
    }
}
