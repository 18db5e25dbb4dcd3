package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.JobResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;

/**
 * The coordinator's Prometheus metrics: leadership, jobs published (and published again, and stalled), results by outcome,
 * dead letters, bytes merged, campaigns by state.
 */
final class CoordinatorMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final MultiGauge campaigns;

    CoordinatorMetrics() {
        campaigns = MultiGauge.builder("chainmerge.campaigns")
                .description("campaigns by state")
                .register(registry);
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
        Counter.builder("chainmerge.jobs.republished")
                .description("jobs published again after no sign of life for job.stall-timeout")
                .tag("kind", job.kind().wireName())
                .register(registry)
                .increment();
    }

    /** A job failed with reason stalled after its last attempt. */
    void stalled(Job job) {
        Counter.builder("chainmerge.jobs.stalled")
                .description("jobs failed after job.max-attempts attempts without a sign of life")
                .tag("kind", job.kind().wireName())
                .register(registry)
                .increment();
    }

    /** A dead letter read: {@code matched} when it failed a job waiting for a result. */
    void deadLetter(boolean matched) {
        Counter.builder("chainmerge.dead.letters")
                .description("job records workers rejected, by whether they matched a job waiting for a result")
                .tag("matched", String.valueOf(matched))
                .register(registry)
                .increment();
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

    void campaigns(Map<CampaignState, Long> counts) {
        campaigns.register(
                counts.entrySet().stream()
                        .map(e -> MultiGauge.Row.of(Tags.of("state", e.getKey().wireName()), e.getValue()))
                        .toList(),
                true);
    }

    String scrape() {
        return registry.scrape();
    }

    void close() {
        registry.close();
    }
}
