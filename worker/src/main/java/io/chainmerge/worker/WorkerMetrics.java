package io.chainmerge.worker;

import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.metrics.DaemonMeters;
import io.chainmerge.disk.pace.VolumePace;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The worker's Prometheus metrics: jobs by kind and outcome and how long they took, bytes merged, the current
 * merge rate, merges running, dead letters, waits for a chain in use, free and total space per volume, whether
 * the worker is ready, and the JVM's, the process's and the Kafka clients' own ({@link DaemonMeters}). One
 * registry per worker, never a global. Names and labels are what docs/observability.md lists and what the
 * dashboard and alerts under k8s/monitoring/ query.
 */
final class WorkerMetrics {
    /**
     * The buckets of a job's duration: a space check takes a second, a merge of a large disk hours; Prometheus
     * computes quantiles from these.
     */
    static final Duration[] DURATION_BUCKETS = {
        Duration.ofSeconds(1),
        Duration.ofSeconds(5),
        Duration.ofSeconds(30),
        Duration.ofMinutes(1),
        Duration.ofMinutes(5),
        Duration.ofMinutes(15),
        Duration.ofHours(1),
        Duration.ofHours(4),
        Duration.ofHours(12)
    };

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final DaemonMeters daemon;
    private final Counter mergedBytes;
    private final Counter deadLetters;
    private final Timer inUseWaits;

    WorkerMetrics(String worker, String pool, VolumeRoots roots, RunningMerges running) {
        this(worker, pool, roots, running, Map.of());
    }

    WorkerMetrics(String worker, String pool, VolumeRoots roots, RunningMerges running, Map<Path, VolumePace> paces) {
        // Before any meter: a meter registered earlier would go without the worker's tags.
        registry.config().commonTags("worker", worker, "pool", pool);
        daemon = new DaemonMeters(registry);
        mergedBytes = Counter.builder("chainmerge.merged.bytes")
                .description("payload bytes merged")
                .baseUnit("bytes")
                .register(registry);
        deadLetters = Counter.builder("chainmerge.dead.letters")
                .description("job records rejected to the dead-letter topic")
                .register(registry);
        inUseWaits = Timer.builder("chainmerge.inuse.wait")
                .description(
                        "waits of a job resumed here for its chain's files, in use by the run that began it, to be free")
                .register(registry);
        Gauge.builder("chainmerge.merge.rate", running, r -> r.totalRate())
                .description("bytes per second the running merges copy, summed")
                .baseUnit("bytes.per.second")
                .register(registry);
        Gauge.builder("chainmerge.merges.running", running, RunningMerges::count)
                .description("merges running now")
                .register(registry);
        for (Path volume : roots.roots()) {
            Gauge.builder("chainmerge.volume.free", volume, WorkerMetrics::usable)
                    .description("bytes free on the volume, as this process may use them")
                    .baseUnit("bytes")
                    .tag("volume", volume.toString())
                    .register(registry);
            Gauge.builder("chainmerge.volume.total", volume, WorkerMetrics::total)
                    .description("bytes the volume holds in all")
                    .baseUnit("bytes")
                    .tag("volume", volume.toString())
                    .register(registry);
        }
        for (VolumePace pace : paces.values()) {
            String volume = pace.volume().toString();
            Gauge.builder(
                            "chainmerge.volume.pace",
                            pace,
                            p -> p.current().paused()
                                    ? 0
                                    : p.current().bytesPerSecond() == 0
                                            ? Double.POSITIVE_INFINITY
                                            : p.current().bytesPerSecond())
                    .description(
                            "bytes per second the volume's latency lets its merges copy, shared among them; +Inf for no limit, 0 while paused")
                    .baseUnit("bytes.per.second")
                    .tag("volume", volume)
                    .register(registry);
            Gauge.builder("chainmerge.volume.paused", pace, p -> p.current().paused() ? 1 : 0)
                    .description("1 while the volume's latency holds its merges paused")
                    .tag("volume", volume)
                    .register(registry);
            Gauge.builder(
                            "chainmerge.volume.latency",
                            pace,
                            p -> p.current().latencyNanos() < 0
                                    ? Double.NaN
                                    : p.current().latencyNanos() / 1e9)
                    .description("the volume's service latency per I/O at the last sample, that paces its merges")
                    .baseUnit("seconds")
                    .tag("volume", volume)
                    .register(registry);
        }
    }

    /** 1 while the worker would answer /ready with 200, from what it knows without asking the broker. */
    void readiness(BooleanSupplier ready) {
        Gauge.builder("chainmerge.worker.ready", ready, r -> r.getAsBoolean() ? 1 : 0)
                .description("1 while the job consumer is in its group, its loop alive and every volume readable")
                .register(registry);
    }

    /** The Kafka clients' own metrics: the job consumer's fetch lag among them. */
    <C extends org.apache.kafka.clients.consumer.Consumer<?, ?>> C kafka(C consumer) {
        return daemon.kafka(consumer);
    }

    <P extends org.apache.kafka.clients.producer.Producer<?, ?>> P kafka(P producer) {
        return daemon.kafka(producer);
    }

    private static double total(Path volume) {
        try {
            return Files.getFileStore(volume).getTotalSpace();
        } catch (IOException e) {
            return Double.NaN;
        }
    }

    private static double usable(Path volume) {
        try {
            return Files.getFileStore(volume).getUsableSpace();
        } catch (IOException e) {
            return Double.NaN;
        }
    }

    void recordResult(JobResult result) {
        Counter.builder("chainmerge.jobs")
                .description("jobs ended, by kind and outcome")
                .tag("kind", result.kind().wireName())
                .tag("outcome", result.outcome().wireName())
                .register(registry)
                .increment();
        if (!result.redelivered()) {
            mergedBytes.increment(result.bytesMerged());
            if (result.duration() != null) {
                Timer.builder("chainmerge.job.duration")
                        .description("how long a job ran here, by kind and outcome (a job delivered again counts once)")
                        .serviceLevelObjectives(DURATION_BUCKETS)
                        .tag("kind", result.kind().wireName())
                        .tag("outcome", result.outcome().wireName())
                        .register(registry)
                        .record(result.duration());
            }
        }
    }

    void recordInUseWait(Duration waited) {
        inUseWaits.record(waited);
    }

    void recordDeadLetter() {
        deadLetters.increment();
    }

    /** The Prometheus text; reads the volumes' free space, so call it off the event loop. */
    String scrape() {
        return registry.scrape();
    }

    void close() {
        daemon.close();
        registry.close();
    }
}
