package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.broker.KafkaBroker;
import io.chainmerge.broker.TopicProbe;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.kafka.KafkaClients;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Several replicas of one coordinator group on a real broker: one leads and writes, the others follow its
 * state, answer reads and name it to writers; when it stops, a standby takes over with the campaigns as they
 * were; and a leader whose transactional id another took is fenced: nothing it sends after commits.
 */
class LeadershipIT {
    private static final JsonCodec JSON = new JsonCodec();
    private static final AtomicInteger GROUPS = new AtomicInteger();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    /** A replica of the test's own group (and topics), insecure: leadership, not the API's guard, is the subject. */
    private static Map<String, Object> replica(String group, String id) {
        Map<String, Object> settings = new HashMap<>();
        settings.put("coordinator.id", id);
        settings.put("coordinator.group", group);
        settings.put("topics.prefix", group);
        settings.put("topics.partitions", 2);
        settings.put("leader.session-timeout", "3s");
        settings.put("http.host", "127.0.0.1");
        settings.put("http.port", 0);
        settings.put("security.mode", "insecure");
        settings.put("kafka.bootstrap.servers", broker.bootstrapServers());
        return settings;
    }

    @Test
    void aStandbyFollowsTheLeadersCampaignsAnswersReadsAndNamesTheLeaderToWriters() throws Exception {
        String group = "lead-" + GROUPS.incrementAndGet();
        try (Coordinator a = Coordinator.start(CoordinatorConfig.of(replica(group, "a")));
                Coordinator b = Coordinator.start(CoordinatorConfig.of(replica(group, "b")))) {
            assertThat(ready(a).path("role").asText()).isEqualTo("leader");
            JsonNode standby = ready(b);
            assertThat(standby.path("ready").asBoolean()).isTrue();
            assertThat(standby.path("role").asText()).isEqualTo("standby");
            assertThat(standby.path("leader").path("coordinator").asText()).isEqualTo("a");
            assertThat(standby.path("leader").path("url").asText()).isEqualTo("http://127.0.0.1:" + a.httpPort());

            String id = submit(a);
            // Followed, not replayed: the standby has it within a poll or two.
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> get(b, "/v1/campaigns/" + id).statusCode() == 200);
            assertThat(JSON.mapper().readTree(get(b, "/v1/campaigns").body()).findValuesAsText("campaignId"))
                    .contains(id);

            HttpResponse<String> refused = post(b, "/v1/campaigns/" + id + "/pause");
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("content-type")).hasValue("application/problem+json");
            assertThat(refused.headers().firstValue("retry-after")).hasValue("2");
            JsonNode problem = JSON.mapper().readTree(refused.body());
            assertThat(problem.path("error").asText()).isEqualTo("not-leader");
            assertThat(problem.path("leader").path("coordinator").asText()).isEqualTo("a");
            assertThat(problem.path("detail").asText()).contains("b stands by; a leads");
            // A standby knows no live progress: a stream is the leader's to serve, and the standby says where.
            HttpResponse<String> stream = get(b, "/v1/campaigns/" + id + "/events");
            assertThat(stream.statusCode()).isEqualTo(503);
            assertThat(JSON.mapper()
                            .readTree(stream.body())
                            .path("leader")
                            .path("url")
                            .asText())
                    .isEqualTo("http://127.0.0.1:" + a.httpPort());
            try (EventStreamReader live = new EventStreamReader(url(a, "/v1/campaigns/" + id + "/events"), null)) {
                assertThat(live.next(Duration.ofSeconds(10)).name()).isEqualTo("snapshot");
            }
            assertThat(post(a, "/v1/campaigns/" + id + "/pause").statusCode()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> JSON.mapper()
                    .readTree(get(b, "/v1/campaigns/" + id).body())
                    .path("paused")
                    .asBoolean());

            assertThat(get(a, "/metrics").body()).contains("chainmerge_coordinator_leader 1.0");
            assertThat(get(b, "/metrics").body()).contains("chainmerge_coordinator_leader 0.0");
        }
    }

    @Test
    void whenTheLeaderStopsAStandbyTakesOverWithEveryCampaignAndTakesWrites() throws Exception {
        String group = "lead-" + GROUPS.incrementAndGet();
        Coordinator a = Coordinator.start(CoordinatorConfig.of(replica(group, "a")));
        try (Coordinator b = Coordinator.start(CoordinatorConfig.of(replica(group, "b")))) {
            String id;
            try (a) {
                id = submit(a);
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> get(b, "/v1/campaigns/" + id).statusCode() == 200);
                assertThat(ready(b).path("role").asText()).isEqualTo("standby");
            }
            long stopped = System.nanoTime();
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> ready(b).path("role").asText().equals("leader"));
            Duration takeover = Duration.ofNanos(System.nanoTime() - stopped);
            assertThat(takeover).isLessThan(Duration.ofSeconds(20));
            assertThat(ready(b).path("leader").path("coordinator").asText()).isEqualTo("b");

            HttpResponse<String> cancelled = post(b, "/v1/campaigns/" + id + "/cancel");
            assertThat(cancelled.statusCode()).isEqualTo(200);
            assertThat(JSON.mapper().readTree(cancelled.body()).path("state").asText())
                    .isEqualTo("cancelled");
            assertThat(get(b, "/metrics").body()).contains("chainmerge_coordinator_takeover_seconds_count 1\n");
        }
    }

    @Test
    void aLeaderWhoseTransactionalIdAnotherTookIsFencedAndNothingItSendsAfterCommits() throws Exception {
        String group = "fence-" + GROUPS.incrementAndGet();
        String topic = stateTopic(group);
        Map<String, Object> settings = transactional(group);
        AtomicReference<Throwable> zombieFenced = new AtomicReference<>();
        TransactionalLog zombie = new TransactionalLog(settings, "zombie", Runnable::run, zombieFenced::set);
        TransactionalLog successor = new TransactionalLog(settings, "successor", Runnable::run, fenced -> {});
        try {
            zombie.open();
            zombie.send(record(topic, "before")).get();

            successor.open(); // bumps the epoch: the zombie is fenced from here on
            successor.send(record(topic, "successor")).get();
            CompletableFuture<?> late = zombie.send(record(topic, "after"));
            assertThat(late)
                    .failsWithin(Duration.ofSeconds(30))
                    .withThrowableOfType(ExecutionException.class)
                    .satisfies(e -> assertThat(e.getCause())
                            .isInstanceOfAny(ProducerFencedException.class, InvalidProducerEpochException.class));
            await().atMost(Duration.ofSeconds(5)).until(() -> zombieFenced.get() != null);
            assertThat(zombie.isOpen()).isFalse();
            assertThat(zombie.send(record(topic, "later still")))
                    .failsWithin(Duration.ofSeconds(5))
                    .withThrowableOfType(ExecutionException.class)
                    .satisfies(e -> assertThat(e.getCause()).isInstanceOf(TransactionalLog.NotLeadingException.class));
        } finally {
            zombie.close();
            successor.close();
        }
        // What a read_committed reader (every replica's follower, every worker) sees, with who wrote it.
        assertThat(committed(topic)).containsExactly("zombie:before", "successor:successor");
    }

    @Test
    void aRecordTheBrokerCannotTakeFailsAloneAndTheRecordsSentWithItCommit() throws Exception {
        String group = "oversize-" + GROUPS.incrementAndGet();
        String topic = stateTopic(group);
        try (TransactionalLog log = new TransactionalLog(transactional(group), "leader", Runnable::run, fenced -> {})) {
            log.open();
            CompletableFuture<?> before = log.send(record(topic, "before"));
            CompletableFuture<?> huge = log.send(new ProducerRecord<>(
                    topic, "k", new byte[io.chainmerge.common.topic.Topics.MAX_MESSAGE_BYTES + 1]));
            CompletableFuture<?> after = log.send(record(topic, "after"));
            assertThat(huge).failsWithin(Duration.ofSeconds(30));
            assertThat(before).succeedsWithin(Duration.ofSeconds(30));
            assertThat(after).succeedsWithin(Duration.ofSeconds(30));
            assertThat(log.isOpen()).isTrue();
        }
        assertThat(committed(topic)).containsExactly("leader:before", "leader:after");
    }

    /** A one-partition state topic of the group's own, created for the test. */
    private static String stateTopic(String group) throws Exception {
        String topic = group + ".campaigns";
        try (org.apache.kafka.clients.admin.Admin admin =
                org.apache.kafka.clients.admin.Admin.create(clients().admin(group + "-admin"))) {
            KafkaClients.ensureTopics(
                    admin, List.of(new io.chainmerge.common.topic.Topics.TopicSpec(topic, true, null)), 1, (short) 1);
        }
        return topic;
    }

    /** The settings of a producer that takes the group's transactional id, as a leader's does. */
    private static Map<String, Object> transactional(String group) {
        return clients().transactionalProducer(group, group, Duration.ofSeconds(15));
    }

    private static KafkaClients clients() {
        return new KafkaClients(Map.of("bootstrap.servers", broker.bootstrapServers()));
    }

    private static ProducerRecord<String, byte[]> record(String topic, String value) {
        return new ProducerRecord<>(topic, "k", value.getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> committed(String topic) {
        List<String> seen = new ArrayList<>();
        try (TopicProbe probe = new TopicProbe(broker.bootstrapServers())) {
            for (ConsumerRecord<String, byte[]> record : probe.committed(List.of(topic))) {
                String writer = new String(
                        record.headers()
                                .lastHeader(TransactionalLog.WRITER_HEADER)
                                .value(),
                        StandardCharsets.UTF_8);
                seen.add(writer + ":" + new String(record.value(), StandardCharsets.UTF_8));
            }
        }
        return seen;
    }

    private static String submit(Coordinator coordinator) throws Exception {
        HttpResponse<String> response = HTTP.send(
                HttpRequest.newBuilder(url(coordinator, "/v1/campaigns"))
                        .header("content-type", "application/yaml")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "name: followed\npools: [nobody]\naction: merge-to-root\n"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return JSON.mapper().readTree(response.body()).path("campaignId").asText();
    }

    private static JsonNode ready(Coordinator coordinator) throws Exception {
        return JSON.mapper().readTree(get(coordinator, "/ready").body());
    }

    private static HttpResponse<String> get(Coordinator coordinator, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(url(coordinator, path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(Coordinator coordinator, String path) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(url(coordinator, path))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static URI url(Coordinator coordinator, String path) {
        return URI.create("http://127.0.0.1:" + coordinator.httpPort() + path);
    }
}
