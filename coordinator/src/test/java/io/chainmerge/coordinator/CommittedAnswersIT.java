package io.chainmerge.coordinator;

import static io.chainmerge.coordinator.CoordinatorCalls.report;
import static io.chainmerge.coordinator.CoordinatorCalls.url;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.broker.KafkaBroker;
import io.chainmerge.broker.TopicProbe;
import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.campaign.CampaignStateChanged;
import io.chainmerge.common.campaign.CampaignSubmitted;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.Schema;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the coordinator answers is what it committed: a submission is answered 201 only once its records are on the
 * state topic, and a campaign whose leader was fenced between its records (submitted and scanning, its space check
 * never committed) is scanned by the next leader rather than finished having planned nothing. Both were found by
 * the soak (docs/reliability.md).
 */
class CommittedAnswersIT {
    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    private static final JsonCodec JSON = new JsonCodec();
    private static final MessageCodec CODEC = new MessageCodec(JSON);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void aSubmissionWhoseRecordsAFencedLeaderCannotCommitIsAnswered503NotRecordedAndIsNowhere() throws Exception {
        CoordinatorConfig config = CoordinatorConfig.of(settings("fenced"));
        try (Coordinator coordinator = Coordinator.start(config)) {
            coordinator.leads().toCompletableFuture().get();
            // A successor's producer with the group's transactional id: every later write of this leader aborts.
            Properties fencing = new Properties();
            fencing.put("bootstrap.servers", broker.bootstrapServers());
            fencing.put("transactional.id", config.transactionalId());
            try (KafkaProducer<String, byte[]> successor =
                    new KafkaProducer<>(fencing, new StringSerializer(), new ByteArraySerializer())) {
                successor.initTransactions();
            }

            HttpResponse<String> answer = post(coordinator, "name: too-late\npools: [pool-f]\nscanTimeout: 1h\n");
            assertThat(answer.statusCode()).as(answer.body()).isIn(503);
            JsonNode problem = JSON.mapper().readTree(answer.body());
            assertThat(problem.path("error").asText()).as(answer.body()).isIn("not-recorded", "not-leader");
        }
        try (TopicProbe probe = new TopicProbe(broker.bootstrapServers())) {
            assertThat(probe.committed(java.util.List.of("fenced.campaigns")))
                    .noneMatch(r -> r.value() != null && new String(r.value()).contains("too-late"));
        }
    }

    @Test
    void aCampaignTakenOverWhileScanningWithoutItsSpaceCheckIsScannedNotFinished() throws Exception {
        String id = "c-20261208-000000-abcd";
        Instant at = Instant.now();
        CampaignSpec spec = JSON.yaml().readValue("name: half-recorded\npools: [pool-h]\n", CampaignSpec.class);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            admin.createTopics(java.util.List.of(new NewTopic("half.campaigns", 1, (short) 1)))
                    .all()
                    .get();
        }
        try (TopicProbe probe = new TopicProbe(broker.bootstrapServers())) {
            // What a leader fenced mid-submission left committed: the spec and the scanning state, no space check.
            CampaignSubmitted submitted = new CampaignSubmitted(Schema.VERSION, id, null, at, spec);
            CampaignStateChanged scanning =
                    new CampaignStateChanged(Schema.VERSION, id, null, at, CampaignState.SCANNING, false, "submitted");
            probe.send("half.campaigns", submitted.key(), CODEC.write(submitted));
            probe.send("half.campaigns", scanning.key(), CODEC.write(scanning));
        }
        try (Coordinator coordinator = Coordinator.start(CoordinatorConfig.of(settings("half")))) {
            coordinator.leads().toCompletableFuture().get();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                            report(coordinator, id).path("jobs").findValuesAsText("jobId"))
                    .contains(id + "-scan-pool-h"));
            // No worker answers: it stays scanning, waiting for its space check, and says nothing was merged.
            await().during(Duration.ofSeconds(2))
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> report(coordinator, id).path("state").asText().equals("scanning"));
        }
    }

    private static Map<String, Object> settings(String prefix) {
        Map<String, Object> settings = new HashMap<>();
        settings.put("coordinator.id", prefix);
        settings.put("coordinator.group", prefix);
        settings.put("topics.prefix", prefix);
        settings.put("topics.partitions", 1);
        settings.put("topics.replication", 1);
        settings.put("tick", "100ms");
        settings.put("http.host", "127.0.0.1");
        settings.put("http.port", 0);
        settings.put("security.mode", "insecure");
        settings.put("kafka.bootstrap.servers", broker.bootstrapServers());
        return settings;
    }

    private static HttpResponse<String> post(Coordinator coordinator, String spec) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(url(coordinator, "/v1/campaigns"))
                        .timeout(Duration.ofSeconds(90))
                        .header("content-type", "application/yaml")
                        .POST(HttpRequest.BodyPublishers.ofString(spec))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
