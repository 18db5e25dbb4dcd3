package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.EmbeddedKafka;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /ready} against a real broker: ready when the broker answers and every topic exists, 503 otherwise. */
class CoordinatorReadyIT {
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path brokerDir;

    EmbeddedKafka kafka;
    Coordinator coordinator;

    @BeforeEach
    void start() throws Exception {
        kafka = EmbeddedKafka.start(brokerDir.resolve("kafka"));
        coordinator = Coordinator.start(CoordinatorConfig.of(Map.of(
                "http.host",
                "127.0.0.1",
                "http.port",
                0,
                "tick",
                "200ms",
                "kafka.bootstrap.servers",
                kafka.bootstrapServers())));
    }

    @AfterEach
    void stop() {
        coordinator.close();
        kafka.close();
    }

    @Test
    void readyOnceTheBrokerAnswersAndEveryTopicExists() throws Exception {
        HttpResponse<String> ready = get("/ready");

        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).contains("\"ready\":true").contains("\"missingTopics\":[]");
    }

    @Test
    void notReadyWhenATopicItReadsIsDeleted() {
        String progress = coordinator.config().topics().progress();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            admin.deleteTopics(List.of(progress)).all().get();
        } catch (Exception e) {
            throw new AssertionError(e);
        }

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            HttpResponse<String> ready = get("/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).contains("\"ready\":false").contains(progress);
        });
    }

    @Test
    void notReadyWhenTheBrokerIsGone() throws Exception {
        kafka.stop();

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            HttpResponse<String> ready = get("/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).contains("\"kafka\":false").contains("does not answer");
        });
        assertThat(get("/health").statusCode()).isEqualTo(200);

        kafka.restart(); // so that the coordinator's clients close at once
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(get("/ready").statusCode()).isEqualTo(200));
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + coordinator.httpPort() + path))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
