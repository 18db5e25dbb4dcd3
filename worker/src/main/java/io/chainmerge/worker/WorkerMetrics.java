package io.chainmerge.worker;

import io.chainmerge.common.message.JobResult;
import io.chainmerge.disk.pace.VolumePace;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The worker's Prometheus metrics: jobs by kind and outcome, bytes merged, the current merge rate,
 * merges running, dead letters, and free space per volume. One registry per worker, never a global.
 */
final class WorkerMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter mergedBytes;
    private final Counter deadLetters;

    WorkerMetrics(String worker, String pool, VolumeRoots roots, RunningMerges running) {
        this(worker, pool, roots, running, Map.of());
    }

    WorkerMetrics(String worker, String pool, VolumeRoots roots, RunningMerges running, Map<Path, VolumePace> paces) {
        registry.config().commonTags("worker", worker, "pool", pool);
        mergedBytes = Counter.builder("chainmerge.merged.bytes")
                .description("payload bytes merged")
                .baseUnit("bytes")
                .register(registry);
        deadLetters = Counter.builder("chainmerge.dead.letters")
                .description("job records rejected to the dead-letter topic")
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
        }
    }

    void recordDeadLetter() {
        deadLetters.increment();
    }

    /** The Prometheus text; reads the volumes' free space, so call it off the event loop. */
    String scrape() {
        return registry.scrape();
    }

    void close() {
        registry.close();
    }
}
