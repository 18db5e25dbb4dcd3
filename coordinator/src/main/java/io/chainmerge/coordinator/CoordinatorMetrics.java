package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.JobKind;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.metrics.DaemonMeters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;

/**
 * The coordinator's Prometheus metrics: leadership, jobs published (and published again, and stalled), results by outcome,
 * dead letters, bytes merged, campaigns by state, each pool's consumer lag, and the JVM's, the process's and the Kafka
 * clients' own ({@link DaemonMeters}). Counters an alert watches exist at 0 from the start: an absent series and
 * one that stays at 0 read differently in Prometheus. Names and labels are what docs/observability.md lists.
 */
final class CoordinatorMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final DaemonMeters daemon = new DaemonMeters(registry);
    private final MultiGauge campaigns;
    private final MultiGauge poolLag;

    CoordinatorMetrics() {
        campaigns = MultiGauge.builder("chainmerge.campaigns")
                .description("campaigns by state")
                .register(registry);
        poolLag = MultiGauge.builder("chainmerge.pool.lag")
                .description(
                        "offsets of a pool's jobs topic its workers' group has not committed past (read by the leader)")
                .baseUnit("offsets")
                .register(registry);
        campaigns(Map.of());
        for (JobKind kind : JobKind.values()) {
            stalledCounter(kind);
            republishedCounter(kind);
        }
        deadLetterCounter(true);
        deadLetterCounter(false);
    }

    /** The Kafka clients' own metrics, tagged with their client id. */
    <C extends org.apache.kafka.clients.consumer.Consumer<?, ?>> C kafka(C consumer) {
        return daemon.kafka(consumer);
    }

    <P extends org.apache.kafka.clients.producer.Producer<?, ?>> P kafka(P producer) {
        return daemon.kafka(producer);
    }

    /** The pools' lag as the leader read it last; a pool missing here has no series. */
    void poolLag(Map<String, Long> lag) {
        poolLag.register(
                lag.entrySet().stream()
                        .map(e -> MultiGauge.Row.of(Tags.of("pool", e.getKey()), e.getValue()))
                        .toList(),
                true);
    }

    /** 1 while this replica leads its coordinator group; a group without exactly one 1 deserves an alert. */
    void leadership(Leadership leadership) {
        io.micrometer.core.instrument.Gauge.builder(
                        "chainmerge.coordinator.leader", leadership, l -> l.leading() ? 1 : 0)
                .description("1 while this replica leads its coordinator group, 0 while it stands by")
                .register(registry);
    }

    /** How long the last takeover took, from the election to the first tick (fencing and catching up included). */
    void tookOver(java.time.Duration took) {
        io.micrometer.core.instrument.Timer.builder("chainmerge.coordinator.takeover")
                .description("from this replica's election to its first tick as leader")
                .register(registry)
                .record(took);
    }

    void published(Job job) {
        Counter.builder("chainmerge.jobs.published")
                .tag("kind", job.kind().wireName())
                .register(registry)
                .increment();
    }

    /** A job published again after its worker showed no sign of life for the stall timeout. */
    void republished(Job job) {
        republishedCounter(job.kind()).increment();
    }

    private Counter republishedCounter(JobKind kind) {
        return Counter.builder("chainmerge.jobs.republished")
                .description("jobs published again after no sign of life for job.stall-timeout")
                .tag("kind", kind.wireName())
                .register(registry);
    }

    /** A job failed with reason stalled after its last attempt. */
    void stalled(Job job) {
        stalledCounter(job.kind()).increment();
    }

    private Counter stalledCounter(JobKind kind) {
        return Counter.builder("chainmerge.jobs.stalled")
                .description("jobs failed after job.max-attempts attempts without a sign of life")
                .tag("kind", kind.wireName())
                .register(registry);
    }

    /** A dead letter read: {@code matched} when it failed a job waiting for a result. */
    void deadLetter(boolean matched) {
        deadLetterCounter(matched).increment();
    }

    private Counter deadLetterCounter(boolean matched) {
        return Counter.builder("chainmerge.dead.letters")
                .description("job records workers rejected, by whether they matched a job waiting for a result")
                .tag("matched", String.valueOf(matched))
                .register(registry);
    }

    void result(JobResult result) {
        Counter.builder("chainmerge.results")
                .tag("kind", result.kind().wireName())
                .tag("outcome", result.outcome().wireName())
                .register(registry)
                .increment();
        if (!result.redelivered()) {
            Counter.builder("chainmerge.merged.bytes")
                    .baseUnit("bytes")
                    .register(registry)
                    .increment(result.bytesMerged());
        }
    }

    /** Every state has its row, 0 where no campaign is in it. */
    void campaigns(Map<CampaignState, Long> counts) {
        campaigns.register(
                java.util.Arrays.stream(CampaignState.values())
                        .map(state ->
                                MultiGauge.Row.of(Tags.of("state", state.wireName()), counts.getOrDefault(state, 0L)))
                        .toList(),
                true);
    }

    String scrape() {
        return registry.scrape();
    }

    void close() {
        daemon.close();
        registry.close();
    }
}
