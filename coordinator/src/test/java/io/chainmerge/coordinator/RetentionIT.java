package io.chainmerge.coordinator;

import static io.chainmerge.coordinator.CoordinatorCalls.report;
import static io.chainmerge.coordinator.CoordinatorCalls.submit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.broker.KafkaBroker;
import io.chainmerge.broker.TopicProbe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * State stays bounded by live work: a campaign over for {@code campaigns.retention} folds to its totals, its
 * jobs and skips get tombstones on the state topic, and a coordinator started afterwards shows it folded, with
 * the same totals, from the few records that are left.
 */
class RetentionIT {

    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    @Test
    void aCampaignOverForItsRetentionFoldsToItsTotalsAndARestartReadsOnlyWhatIsLeft() throws Exception {
        Map<String, Object> settings = new HashMap<>();
        settings.put("coordinator.id", "keeper");
        settings.put("coordinator.group", "retention");
        settings.put("topics.prefix", "retention");
        settings.put("topics.partitions", 3);
        settings.put("tick", "200ms");
        settings.put("campaigns.retention", "2s");
        settings.put("http.host", "127.0.0.1");
        settings.put("http.port", 0);
        settings.put("security.mode", "insecure");
        settings.put("kafka.bootstrap.servers", broker.bootstrapServers());

        String id;
        JsonNode finished;
        try (Coordinator coordinator = Coordinator.start(CoordinatorConfig.of(settings))) {
            // Two pools nobody serves: two space checks time out, two skips, no merge; the campaign finishes.
            id = submit(coordinator, "name: short\npools: [nobody, none]\naction: merge-to-root\nscanTimeout: 1s\n");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> report(coordinator, id).path("state").asText().equals("finished"));
            finished = report(coordinator, id);
            assertThat(finished.path("jobs")).hasSize(2);
            assertThat(finished.path("skipped")).hasSize(2);
            assertThat(finished.path("summarizedAt").isNull()).isTrue();

            await().atMost(Duration.ofSeconds(30))
                    .until(() -> !report(coordinator, id).path("summarizedAt").isNull());
            JsonNode folded = report(coordinator, id);
            assertThat(folded.path("jobs")).isEmpty();
            assertThat(folded.path("skipped")).isEmpty();
            assertThat(folded.path("totals")).isEqualTo(finished.path("totals"));
            assertThat(folded.path("actions")).hasSize(1); // who submitted it stays
        }

        // The latest record per key, as compaction leaves the topic: the jobs and skips are tombstones.
        Map<String, byte[]> latest = latest("retention.campaigns");
        List<String> kept = new ArrayList<>();
        latest.forEach((key, value) -> {
            if (key.startsWith(id + "/") && value != null) {
                kept.add(key.substring(id.length() + 1));
            }
        });
        assertThat(kept).containsExactlyInAnyOrder("spec", "state", "summary", "action/1");
        assertThat(latest.keySet())
                .filteredOn(key -> key.startsWith(id + "/job/") || key.startsWith(id + "/skip/"))
                .hasSize(4)
                .allSatisfy(key -> assertThat(latest.get(key)).isNull());

        settings.put("coordinator.id", "restarted");
        try (Coordinator restarted = Coordinator.start(CoordinatorConfig.of(settings))) {
            JsonNode again = report(restarted, id);
            assertThat(again.path("summarizedAt").asText()).isNotEmpty();
            assertThat(again.path("totals")).isEqualTo(finished.path("totals"));
            assertThat(again.path("jobs")).isEmpty();
        }
    }

    private static Map<String, byte[]> latest(String topic) {
        Map<String, byte[]> latest = new LinkedHashMap<>();
        try (TopicProbe probe = new TopicProbe(broker.bootstrapServers())) {
            probe.committed(List.of(topic)).forEach(record -> latest.put(record.key(), record.value()));
        }
        return latest;
    }
}
