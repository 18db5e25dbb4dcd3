package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.KafkaBroker;
import io.chainmerge.common.kafka.PollLoops;
import io.chainmerge.common.topic.Topics;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code /ready} against a real broker: ready when the broker answers and every topic exists, 503 otherwise. */
class CoordinatorReadyIT {
    private static final AtomicInteger PREFIXES = new AtomicInteger();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    Coordinator coordinator;

    /** Each test has topics of its own, so deleting one leaves the others' alone. */
    void startCoordinator() throws Exception {
        coordinator = Coordinator.start(CoordinatorConfig.of(Map.of(
                "coordinator.id",
                "ready-it-" + PREFIXES.incrementAndGet(),
                "topics.prefix",
                "ready-it-" + PREFIXES.get(),
                "http.host",
                "127.0.0.1",
                "http.port",
                0,
                "security.mode",
                "insecure", // readiness, not security, is what this test is about
                "kafka.bootstrap.servers",
                broker.bootstrapServers())));
    }

    @AfterEach
    void stop() {
        if (coordinator != null) {
            coordinator.close();
        }
    }

    @Test
    void readyOnceTheBrokerAnswersAndEveryTopicExists() throws Exception {
        startCoordinator();
        HttpResponse<String> ready = get("/ready");

        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).contains("\"ready\":true").contains("\"missingTopics\":[]");
    }

    @Test
    void notReadyWhenATopicItReadsIsDeleted() throws Exception {
        startCoordinator();
        String progress = coordinator.config().topics().progress();
        try (Admin admin =
                Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            admin.deleteTopics(List.of(progress)).all().get();
        }

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            HttpResponse<String> ready = get("/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).contains("\"ready\":false").contains(progress);
        });
        assertThat(get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void notReadyWhenNoBrokerAnswers() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        try (Admin admin = Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + closedPort,
                AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG,
                200))) {
            Readiness.Status status = new Readiness(
                            admin, new Topics("chainmerge"), new PollLoops(), "secure", new Leadership("ready-test"))
                    .check();

            assertThat(status.ready()).isFalse();
            assertThat(status.kafka()).isFalse();
            assertThat(status.problem()).contains("the broker does not answer");
            admin.close(Duration.ZERO);
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + coordinator.httpPort() + path))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
