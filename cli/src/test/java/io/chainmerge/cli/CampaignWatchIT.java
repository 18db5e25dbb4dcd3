package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.broker.KafkaBroker;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code campaign watch} given only a standby's address: the standby answers the stream with 503 naming the
 * leader, the CLI follows it there and watches the campaign to its end, with a real broker and two replicas.
 */
class CampaignWatchIT {
    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    private static Map<String, Object> replica(String id) {
        Map<String, Object> settings = new HashMap<>();
        settings.put("coordinator.id", id);
        settings.put("coordinator.group", "watch-it");
        settings.put("topics.prefix", "watch-it");
        settings.put("topics.replication", 1);
        settings.put("http.host", "127.0.0.1");
        settings.put("http.port", 0);
        settings.put("tick", "100ms");
        settings.put("security.mode", "insecure");
        settings.put("kafka.bootstrap.servers", broker.bootstrapServers());
        return settings;
    }

    @Test
    void aWatchGivenTheStandbyFollowsTheLeadersStreamToTheEnd() throws Exception {
        try (Coordinator leader = Coordinator.start(CoordinatorConfig.of(replica("a")));
                Coordinator standby = Coordinator.start(CoordinatorConfig.of(replica("b")))) {
            String standbyUrl = "http://127.0.0.1:" + standby.httpPort();
            String id = new CampaignClient(standbyUrl, ChainmergeCommand.JSON, null)
                    .submit("name: watched\npools: [nobody-serves-it]\nscanTimeout: 2s\n");
            // A client that has not written yet asks the standby first, as `campaign watch` run alone does.
            CampaignClient fresh = new CampaignClient(standbyUrl, ChainmergeCommand.JSON, null);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            CampaignReport report = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                    Duration.ofSeconds(60),
                    () -> new CampaignWatch(fresh, new PrintStream(out, true, StandardCharsets.UTF_8), false)
                            .follow(id));
            assertThat(report.state()).isEqualTo(CampaignState.FINISHED);
            assertThat(report.skipped()).extracting(s -> s.reason()).containsExactly("unreachable");
            assertThat(out.toString(StandardCharsets.UTF_8)).contains("campaign finished");
        }
    }
}
