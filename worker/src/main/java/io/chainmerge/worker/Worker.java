package io.chainmerge.worker;

import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.kafka.KafkaClients;
import io.chainmerge.common.kafka.PollLoops;
import io.chainmerge.common.log.LogContext;
import io.chainmerge.common.message.DeadLetter;
import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.MalformedMessageException;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.security.CapabilityVerifier;
import io.chainmerge.common.topic.Topics.TopicSpec;
import io.chainmerge.disk.inuse.InUseCheck;
import io.chainmerge.disk.pace.VolumePace;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running worker: consumes its pool's jobs, runs them on the disk engine off the event loop,
 * publishes results, progress and inventory, and serves {@code /health}, {@code /ready} and
 * {@code /metrics}. {@link #close()} is the graceful stop SIGTERM triggers.
 */
public final class Worker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Worker.class);
    private static final int MAX_DEAD_LETTER_PAYLOAD = 64 * 1024;

    private final WorkerConfig config;
    private final Vertx vertx;
    private final MessageCodec codec;
    private final KafkaProducer<String, byte[]> producer;
    private final Admin admin;
    private final Reports reports;
    private final ExecutorService callbacks;
    private final RunningMerges running;
    private final WorkerMetrics metrics;
    private final JobExecutions executions;
    private final JobConsumer consumer;
    private final PollLoops loops = new PollLoops();
    private Thread consumerThread;
    private final HttpServer http;
    private final long progressTimer;
    private volatile boolean draining;
    private volatile boolean stopRequested;
    private volatile boolean closed;

    private Worker(WorkerConfig config) throws Exception {
        this.config = config;
        config.security().checkCanStart(LOG);
        this.codec = new MessageCodec(new JsonCodec());
        VolumeRoots roots = new VolumeRoots(config.volumes());
        Map<Path, JobJournal> journals = new LinkedHashMap<>();
        for (Path volume : roots.roots()) {
            JobJournal journal = new JobJournal(volume, codec);
            journal.prune(config.journalRetention(), Instant.now());
            journals.put(volume, journal);
        }
        KafkaClients kafka = config.kafka();
        this.admin = Admin.create(kafka.admin("chainmerge-worker-admin-" + config.workerId()));
        // Only the topics this pool's workers use: its Kafka identity may create those and no others.
        List<String> own = config.kafkaRole().topicNames();
        List<TopicSpec> topics = new ArrayList<>(config.topics().shared().stream()
                .filter(topic -> own.contains(topic.name()))
                .toList());
        topics.add(config.topics().jobsSpec(config.pool()));
        KafkaClients.ensureTopics(admin, topics, config.topicPartitions(), config.topicReplication());

        this.vertx = Vertx.vertx();
        this.producer = new KafkaProducer<>(kafka.producer("chainmerge-worker-" + config.workerId()));
        this.callbacks = Executors.newSingleThreadExecutor(r -> new Thread(r, "chainmerge-acks-" + config.workerId()));
        this.reports = new Reports(producer, config.topics(), codec, callbacks);
        Map<Path, VolumePace> paces = new LinkedHashMap<>();
        if (config.pacing().enabled()) {
            for (Path volume : roots.roots()) {
                VolumePace pace = VolumePace.of(volume, config.pacing());
                LOG.info(
                        "merges on {} keep its latency under {} ms: {}",
                        volume,
                        config.pacing().latencyTarget().toMillis(),
                        pace.signal());
                paces.put(volume, pace);
            }
        }
        this.running = new RunningMerges(config.workerId(), () -> stopRequested, roots, paces);
        this.metrics = new WorkerMetrics(config.workerId(), config.pool(), roots, running, paces);
        metrics.kafka(producer);
        InUseCheck inUse = config.inUse().check(codec.json().mapper(), Clock.systemUTC());
        CapabilityVerifier capabilities = config.security().verifier(codec.json(), Clock.systemUTC());
        JobRunner runner = new JobRunner(
                config,
                roots,
                inUse,
                running,
                new TransferClient(
                        config.security().clientContext(),
                        config.security().mode() == TransferSecurity.Mode.SECURE,
                        capabilities,
                        codec.json(),
                        config.transferIdleTimeout()),
                () -> stopRequested,
                this::advertisedUrl,
                whole -> Reports.await(reports.inventory(whole)));
        this.executions = new JobExecutions(vertx, config, roots, runner, reports, metrics, journals, () -> draining);

        this.consumer = new JobConsumer(
                metrics.kafka(new KafkaConsumer<>(jobConsumerSettings(kafka, config))),
                config.topics().jobs(config.pool()),
                this::handle);
        metrics.readiness(() -> consumer.hasPolled()
                && loops.death().isEmpty()
                && roots.roots().stream().allMatch(root -> Files.isDirectory(root) && Files.isReadable(root)));

        this.http = WorkerHttp.start(
                        vertx,
                        config,
                        roots,
                        admin,
                        metrics,
                        consumer,
                        loops,
                        new TransferServer(vertx, config, roots, inUse, capabilities),
                        inUse)
                .toCompletionStage()
                .toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        this.progressTimer = vertx.setPeriodic(config.progressInterval().toMillis(), id -> publishProgress());
        loops.died()
                .thenAccept(reason -> LOG.error(
                        "worker {} is dead: {}",
                        config.workerId(),
                        reason,
                        loops.cause().orElse(null)));
        this.consumerThread = loops.start("chainmerge-jobs-" + config.workerId(), consumer);
        LOG.info(
                "worker {} serves pool {} on {}; http on {}",
                config.workerId(),
                config.pool(),
                roots.roots(),
                http.actualPort());
    }

    /**
     * The job consumer waits at most 100 ms for a fetch to fill (not Kafka's 500 ms): a partition
     * resumed after its job finished joins the next fetch only when the one under way returns, and
     * that wait would hold the pool's next job back. A {@code kafka.fetch.max.wait.ms} setting wins.
     */
    private static Map<String, Object> jobConsumerSettings(KafkaClients kafka, WorkerConfig config) {
        Map<String, Object> settings = new java.util.HashMap<>();
        settings.put("fetch.max.wait.ms", 100);
        settings.putAll(kafka.consumer("chainmerge-worker-" + config.workerId(), config.groupId()));
        return settings;
    }

    /**
     * Completes, with the reason, when the job consumer dies on its own (a fatal Kafka error): the worker
     * is then not ready, and {@code chainmerge worker} exits non-zero so that it is started again.
     */
    public CompletionStage<String> died() {
        return loops.died();
    }

    /** Starts a worker; it runs until {@link #close()}. */
    public static Worker start(WorkerConfig config) throws Exception {
        return new Worker(config);
    }

    public WorkerConfig config() {
        return config;
    }

    public int httpPort() {
        return http.actualPort();
    }

    /**
     * Reads the HTTP server's certificate and key again, whether they changed or not (SIGHUP, {@code systemctl
     * reload}); files that cannot be used are refused, logged at ERROR, and the earlier certificate stays.
     * ({@code tls.ca} and {@code transfer.verification-keys} are read at start only.)
     *
     * @return completes with whether the files read are in service now
     */
    public java.util.concurrent.CompletionStage<Boolean> reload() {
        if (!config.security().tls().serves()) {
            return java.util.concurrent.CompletableFuture.completedFuture(true); // nothing to read
        }
        return ServerTls.reload(http, config.security().tls(), "SIGHUP").toCompletionStage();
    }

    /** Where other workers reach this one (its space checks report it, for transplants). */
    public String advertisedUrl() {
        return config.advertisedUrl(http.actualPort());
    }

    /** A record from the pool's topic: a job to run, or a dead letter. Called on the consumer thread. */
    private CompletableFuture<?> handle(ConsumerRecord<String, byte[]> record) {
        Job job;
        try {
            job = codec.readJob(record.value());
            if (!job.pool().equals(config.pool())) {
                throw new MalformedMessageException(
                        "the job is for pool " + job.pool() + " but was published on " + record.topic(), null);
            }
        } catch (MalformedMessageException e) {
            return deadLetter(record, e.getMessage());
        }
        return executions.submit(job);
    }

    private CompletableFuture<?> deadLetter(ConsumerRecord<String, byte[]> record, String reason) {
        byte[] value = record.value() == null ? new byte[0] : record.value();
        String payload = new String(value, 0, Math.min(value.length, MAX_DEAD_LETTER_PAYLOAD), StandardCharsets.UTF_8);
        String jobId = codec.peek(value, "jobId");
        String campaignId = codec.peek(value, "campaignId");
        try (LogContext context = LogContext.ofResult(campaignId, jobId, config.pool(), config.workerId())) {
            LOG.warn(
                    "rejected the record at {}-{}@{} to the dead-letter topic: {}",
                    record.topic(),
                    record.partition(),
                    record.offset(),
                    reason);
        }
        DeadLetter letter = new DeadLetter(
                Schema.VERSION,
                jobId,
                campaignId,
                record.topic(),
                record.partition(),
                record.offset(),
                record.key(),
                config.workerId(),
                reason,
                payload,
                Instant.now());
        return reports.deadLetter(letter).thenRun(metrics::recordDeadLetter);
    }

    /**
     * Every progress interval: each running merge's progress, and a sign of life for each other job this
     * worker holds (waiting for a slot or a chain in use), so the coordinator's stall timeout
     * ({@code job.stall-timeout}) never takes a job that is running or waiting here for stalled.
     */
    private void publishProgress() {
        List<Job> held = executions.heldFor(config.progressInterval());
        if (running.count() == 0 && held.isEmpty()) {
            return;
        }
        vertx.executeBlocking(() -> {
            running.snapshot().forEach(reports::progress);
            running.waiting(held).forEach(reports::progress);
            return null;
        });
    }

    /**
     * Stops gracefully: no new job starts; running jobs get {@code shutdown.grace} to finish, then
     * merges are interrupted after the chunk they copy (journaled, so they resume wherever the job is delivered
     * next); what is complete is committed and the consumer leaves the group at once.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        loops.stopping();
        LOG.info("worker {} stopping", config.workerId());
        draining = true;
        waitForJobs(config.shutdownGrace());
        stopRequested = true;
        waitForJobs(Duration.ofSeconds(30));
        vertx.cancelTimer(progressTimer);
        consumer.stop();
        try {
            consumerThread.join(Duration.ofSeconds(30).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(10));
        callbacks.shutdown();
        admin.close(Duration.ofSeconds(5));
        executions.close();
        metrics.close();
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("closing Vert.x: {}", e.toString());
        }
        LOG.info("worker {} stopped", config.workerId());
    }

    private void waitForJobs(Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (executions.inProgress() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
