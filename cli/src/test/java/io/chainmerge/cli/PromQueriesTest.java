package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The reading of PromQL that MonitoringIT relies on: what it finds, and that it reports what a scrape lacks. */
class PromQueriesTest {
    private static final Map<String, Set<String>> SCRAPED = PromQueries.series(
            """
            # HELP chainmerge_jobs_total jobs ended
            # TYPE chainmerge_jobs_total counter
            chainmerge_jobs_total{kind="merge",outcome="succeeded",pool="pool-a",worker="w1"} 3.0
            chainmerge_job_duration_seconds_bucket{kind="merge",le="1.0",outcome="succeeded",pool="pool-a",worker="w1"} 1
            chainmerge_volume_free_bytes{pool="pool-a",volume="/srv/a",worker="w1"} 1.0E9
            """);

    @Test
    void readsMetricsAndTheirMatchersButNotFunctionsKeywordsOrStrings() {
        PromQueries.Query query = PromQueries.parse(
                "q",
                "histogram_quantile(0.9, sum by (le, kind) (rate(chainmerge_job_duration_seconds_bucket{pool=~\"$pool\","
                        + " outcome=\"x{y}\"}[5m]))) > on(pool) group_left chainmerge_volume_free_bytes offset 5m");

        assertThat(query.metrics())
                .containsOnlyKeys("chainmerge_job_duration_seconds_bucket", "chainmerge_volume_free_bytes");
        assertThat(query.metrics().get("chainmerge_job_duration_seconds_bucket"))
                .containsExactlyInAnyOrder("pool", "outcome");
        assertThat(query.groupingLabels()).containsExactlyInAnyOrder("le", "kind", "pool");
    }

    @Test
    void reportsAMetricTheScrapeLacks() {
        List<String> problems = PromQueries.missing(
                List.of(PromQueries.parse("panel", "sum(rate(chainmerge_jobs_totl[5m]))")), SCRAPED);

        assertThat(problems).singleElement().asString().contains("no metric chainmerge_jobs_totl");
    }

    @Test
    void reportsALabelNoMetricOfTheQueryCarries() {
        List<String> problems = PromQueries.missing(
                List.of(
                        PromQueries.parse("matcher", "chainmerge_volume_free_bytes{volum=\"/srv/a\"}"),
                        PromQueries.parse("grouping", "sum by (host) (chainmerge_jobs_total)")),
                SCRAPED);

        assertThat(problems).satisfiesExactly(p -> assertThat(p).contains("has no label volum"), p -> assertThat(p)
                .contains("the label host"));
    }

    @Test
    void acceptsWhatPrometheusAddsToEveryTarget() {
        assertThat(PromQueries.missing(
                        List.of(PromQueries.parse(
                                "target",
                                "up{job=\"chainmerge-worker\"} == 0 or sum by (instance) (chainmerge_jobs_total)")),
                        SCRAPED))
                .isEmpty();
    }
}
