package io.chainmerge.worker;

import io.chainmerge.common.log.LogContext;
import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.message.SetParentJob;
import io.chainmerge.common.message.TransplantJob;
import io.chainmerge.disk.io.LockScope;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs jobs off the event loop and publishes their results. Each volume has its own named Vert.x
 * worker executor sized by {@code concurrency.per-volume}; jobs of one chain (one Kafka key) run one
 * after the other; a job's journal entry is written before it starts and its result recorded there
 * before it is published (so a redelivery finds it), and a job's handling completes only once its
 * result is acknowledged by the broker.
 */
final class JobExecutions {
    private static final Logger LOG = LoggerFactory.getLogger(JobExecutions.class);
    private static final Duration IN_USE_RETRY = Duration.ofSeconds(2);

    private final WorkerConfig config;
    private final VolumeRoots roots;
    private final JobRunner runner;
    private final Reports reports;
    private final WorkerMetrics metrics;
    private final BooleanSupplier draining;
    private final Map<Path, WorkerExecutor> volumeExecutors = new LinkedHashMap<>();
    private final Map<Path, JobJournal> journals = new HashMap<>();
    private final WorkerExecutor scanExecutor;
    private final Map<String, CompletableFuture<?>> chainTails = new HashMap<>();
    private final Map<String, CompletableFuture<JobResult>> byJobId = new ConcurrentHashMap<>();
    /** Every job taken and not yet ended, with when it was taken: the progress reporter vouches for them. */
    private final Map<String, Held> held = new ConcurrentHashMap<>();

    private record Held(Job job, long takenNanos) {}

    JobExecutions(
            Vertx vertx,
            WorkerConfig config,
            VolumeRoots roots,
            JobRunner runner,
            Reports reports,
            WorkerMetrics metrics,
            Map<Path, JobJournal> journals,
            BooleanSupplier draining) {
        this.config = config;
        this.roots = roots;
        this.runner = runner;
        this.reports = reports;
        this.metrics = metrics;
        this.draining = draining;
        this.journals.putAll(journals);
        int index = 0;
        for (Path volume : roots.roots()) {
            // A merge may run for hours: the blocked-thread checker must not call that stuck.
            volumeExecutors.put(
                    volume,
                    vertx.createSharedWorkerExecutor(
                            "chainmerge-volume-" + index++ + "-" + config.workerId(),
                            config.concurrencyPerVolume(),
                            7,
                            TimeUnit.DAYS));
        }
        this.scanExecutor =
                vertx.createSharedWorkerExecutor("chainmerge-scan-" + config.workerId(), 1, 1, TimeUnit.HOURS);
    }

    /**
     * The jobs taken at least {@code for} ago whose execution has not ended: running, waiting for their
     * volume's slot or for the jobs of their chain ahead of them, or waiting for a chain in use elsewhere.
     * A job taken a moment ago is left out, so its first report comes from its run when it starts at once.
     */
    List<Job> heldFor(Duration atLeast) {
        long now = System.nanoTime();
        return held.values().stream()
                .filter(h -> now - h.takenNanos() >= atLeast.toNanos())
                .map(Held::job)
                .toList();
    }

    /** Jobs whose execution has not ended. */
    int inProgress() {
        return byJobId.size();
    }

    /**
     * Runs {@code job} after the earlier jobs of its chain and publishes its result. Completes when
     * the result is acknowledged; completes exceptionally when a stop kept it from ending.
     */
    synchronized CompletableFuture<?> submit(Job job) {
        CompletableFuture<JobResult> running = byJobId.get(job.jobId());
        if (running != null) {
            // Delivered again while this worker still runs it (a rebalance handed its partition back).
            return running;
        }
        Optional<Path> volume = volumeOf(job);
        WorkerExecutor executor = volume.map(volumeExecutors::get).orElse(scanExecutor);
        // Jobs that change nothing (space checks, dry runs) are not journaled: running one again is harmless.
        boolean changesFiles = !(job instanceof MergeJob merge && merge.dryRun());
        JobJournal journal = changesFiles ? volume.map(journals::get).orElse(null) : null;
        CompletableFuture<?> previous = chainTails.getOrDefault(job.key(), CompletableFuture.completedFuture(null));
        CompletableFuture<JobResult> result =
                previous.handle((ignored, error) -> null).thenCompose(ignored -> runInWindow(job, journal, executor));
        byJobId.put(job.jobId(), result);
        held.put(job.jobId(), new Held(job, System.nanoTime()));
        chainTails.put(job.key(), result);
        CompletableFuture<?> published = result.thenCompose(this::publish);
        result.whenComplete((r, e) -> forget(job, result));
        published.whenComplete((r, e) -> {
            if (e != null && !(unwrap(e) instanceof JobRunner.StoppedException)) {
                try (LogContext context = LogContext.ofJob(job, config.workerId())) {
                    LOG.error(
                            "job {} could not be completed; it is not committed and runs again when redelivered",
                            job.jobId(),
                            e);
                }
            }
        });
        return published;
    }

    /**
     * Runs {@code job} on its volume's executor; a merge outside its windows gives its slot back and runs
     * again (resuming from its journal) when the next window opens, held meanwhile: its partition stays
     * paused and the progress reporter vouches for it, so the coordinator neither re-publishes it nor
     * sends the jobs of its chain behind it ahead.
     */
    private CompletableFuture<JobResult> runInWindow(Job job, JobJournal journal, WorkerExecutor executor) {
        return executor.executeBlocking(() -> execute(job, journal), false)
                .toCompletionStage()
                .toCompletableFuture()
                .handle((result, error) -> {
                    if (error != null && unwrap(error) instanceof JobRunner.OutsideWindowException outside) {
                        try (LogContext context = LogContext.ofJob(job, config.workerId())) {
                            LOG.info(
                                    "job {} is outside its windows; it runs when the next opens, at {}",
                                    job.jobId(),
                                    outside.opensAt());
                        }
                        return waitUntil(outside.opensAt()).thenCompose(x -> runInWindow(job, journal, executor));
                    }
                    return error != null
                            ? CompletableFuture.<JobResult>failedFuture(error)
                            : CompletableFuture.completedFuture(result);
                })
                .thenCompose(next -> next);
    }

    /** Completes at {@code at}, or fails as stopped as soon as the worker drains. */
    private CompletableFuture<Void> waitUntil(Instant at) {
        if (draining.getAsBoolean()) {
            return CompletableFuture.failedFuture(new JobRunner.StoppedException(null));
        }
        long millis = Duration.between(Instant.now(), at).toMillis();
        if (millis <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.runAsync(
                        () -> {}, CompletableFuture.delayedExecutor(Math.min(millis, 1000), TimeUnit.MILLISECONDS))
                .thenCompose(x -> waitUntil(at));
    }

    private static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    }

    private synchronized void forget(Job job, CompletableFuture<JobResult> result) {
        if (byJobId.remove(job.jobId(), result)) {
            held.remove(job.jobId());
        }
        chainTails.remove(job.key(), result);
    }

    /** The volume a job changes; empty for space checks and for paths no volume holds (they fail, typed, without touching anything). */
    private Optional<Path> volumeOf(Job job) {
        String path =
                switch (job.kind()) {
                    case SPACE_CHECK -> null;
                    case MERGE -> ((MergeJob) job).child();
                    case SET_PARENT -> ((SetParentJob) job).child();
                    case TRANSPLANT -> ((TransplantJob) job).targetFolder();
                };
        if (path == null) {
            return Optional.empty();
        }
        try {
            return roots.volumeOf(roots.resolve(path));
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * On the volume's executor, with the job in the log context of every line it logs: its start and its end
     * (outcome, time, bytes), and between them the journal, the run, the journal again.
     */
    private JobResult execute(Job job, JobJournal journal) throws Exception {
        // Locks and claims this job takes name it, so whoever it refuses (here or on another host) sees which job.
        try (LogContext context = LogContext.ofJob(job, config.workerId());
                LockScope.OnBehalfOf named =
                        LockScope.onBehalfOf("job " + job.jobId() + " of campaign " + job.campaignId())) {
            long started = System.nanoTime();
            LOG.info("job {} started: {}", job.jobId(), job.kind().wireName());
            try {
                JobResult result = executeJournaled(job, journal);
                LOG.info(
                        "job {} ended: {} {}{} in {} ms, {} bytes merged",
                        job.jobId(),
                        job.kind().wireName(),
                        result.outcome().wireName(),
                        result.problem() == null ? "" : " (" + result.problem().reason() + ")",
                        millisSince(started),
                        result.bytesMerged());
                return result;
            } catch (JobRunner.OutsideWindowException e) {
                LOG.info("job {} ended: outside its windows after {} ms", job.jobId(), millisSince(started));
                throw e;
            } catch (JobRunner.StoppedException e) {
                LOG.info(
                        "job {} ended: stopped after {} ms; it resumes when delivered again",
                        job.jobId(),
                        millisSince(started));
                throw e;
            } catch (Exception e) {
                LOG.warn("job {} ended: {} after {} ms", job.jobId(), e.toString(), millisSince(started));
                throw e;
            }
        }
    }

    private static long millisSince(long startedNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
    }

    private JobResult executeJournaled(Job job, JobJournal journal) throws Exception {
        int waited = 0;
        while (true) {
            if (draining.getAsBoolean()) {
                throw new JobRunner.StoppedException(null);
            }
            if (journal == null) {
                return runner.run(job, null, null, false);
            }
            Optional<JobJournal.Entry> earlier = journal.read(job.jobId());
            if (earlier.isPresent() && earlier.get().state() == JobJournal.State.DONE) {
                LOG.info("job {} was delivered again; it finished before, answering with its result", job.jobId());
                return earlier.get().result().asRedelivered();
            }
            JobRunner.requireWindow(job, Instant.now()); // before its journal entry: a job not begun is not resumed
            boolean resumed = earlier.isPresent();
            JobJournal.Entry entry;
            if (resumed) {
                entry = earlier.get();
            } else {
                Optional<JobJournal.Entry> begun = journal.begin(job, config.workerId(), Instant.now());
                if (begun.isEmpty()) {
                    continue; // another delivery began it a moment ago: from here on, as a job delivered again
                }
                entry = begun.get();
            }
            JobResult result = runner.run(job, journal, entry, resumed);
            // Resumed, the job was started elsewhere. Begun here but refused by another host's claim, it may be
            // the same job delivered there too and holding the chain first (a rebalance does that): refusing
            // would write this run's "in-use" over the result that other run is about to write. Either way
            // another chainmerge run holds the chain, and it ends: wait for it.
            if (isInUse(result) && (resumed || claimedElsewhere(result))) {
                if (++waited > config.inUse().retries()) {
                    // Its slot is freed; the entry stays with the run that owns it, and the refusal names the
                    // holder, so the campaign can try again later.
                    LOG.info(
                            "job {} found its chain in use {} times; giving up: {}",
                            job.jobId(),
                            waited,
                            result.problem().message());
                    return result;
                }
                // It was started elsewhere and its files are still locked: that worker is running it.
                // Wait for it to finish (the journal then holds its result) rather than report a refusal.
                long waitStarted = System.nanoTime();
                Thread.sleep(IN_USE_RETRY.toMillis());
                metrics.recordInUseWait(Duration.ofNanos(System.nanoTime() - waitStarted));
                continue;
            }
            if (unfinishedTransplant(job, result)) {
                // Its copies and links so far are journaled: the same job, delivered again, goes on from there.
                return result;
            }
            journal.write(entry.done(result));
            return result;
        }
    }

    /**
     * A transplant that failed on the way (a source worker gone, a stream broken past its retries, an
     * I/O error) is not final: its journal entry keeps its steps, so delivering the same job again
     * finishes it instead of answering with this failure. Refusals and bad requests are final.
     */
    static boolean unfinishedTransplant(Job job, JobResult result) {
        return job instanceof TransplantJob
                && result.outcome() == Outcome.FAILED
                && List.of("transfer-failed", "io-error", "interrupted")
                        .contains(result.problem().reason());
    }

    private static boolean isInUse(JobResult result) {
        return result.outcome() == Outcome.REFUSED && result.problem().reason().equals("in-use");
    }

    /** Refused by a claim, which only a chainmerge run on another host sharing the volume writes. */
    private static boolean claimedElsewhere(JobResult result) {
        return result.problem().figures().containsKey("claim");
    }

    private CompletableFuture<Void> publish(JobResult result) {
        // A space check's inventory went out, acknowledged, before its result was made (JobRunner).
        return publishResult(result, 0).thenRun(() -> metrics.recordResult(result));
    }

    /** The producer retries for its delivery timeout; past that (a long broker outage) try again until a stop. */
    private CompletableFuture<Void> publishResult(JobResult result, int attempt) {
        return reports.result(result).thenApply(m -> (Void) null).exceptionallyCompose(error -> {
            if (draining.getAsBoolean()) {
                return CompletableFuture.failedFuture(new CompletionException(error));
            }
            LOG.warn(
                    "publishing the result of {} failed (attempt {}), retrying: {}",
                    result.jobId(),
                    attempt + 1,
                    error.toString());
            return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(5, TimeUnit.SECONDS))
                    .thenCompose(x -> publishResult(result, attempt + 1));
        });
    }

    void close() {
        volumeExecutors.values().forEach(WorkerExecutor::close);
        scanExecutor.close();
    }

    List<Path> volumes() {
        return List.copyOf(volumeExecutors.keySet());
    }
}
