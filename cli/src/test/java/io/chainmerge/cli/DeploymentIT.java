package io.chainmerge.cli;

import static io.chainmerge.cli.DeploymentChecks.documents;
import static io.chainmerge.cli.DeploymentChecks.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.cli.DeploymentChecks.Daemon;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import io.chainmerge.worker.Worker;
import io.chainmerge.worker.WorkerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What needs the running daemons: every probe path in docker-compose.yml and k8s/ answers 200 on a real
 * coordinator and a real worker against a real broker. (The Dockerfile: DeploymentManifestsTest statically,
 * ReleaseArchiveIT runs its entry point against the archive it unpacks.)
 */
class DeploymentIT {
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static Coordinator coordinator;
    static Worker worker;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        Path volume = java.nio.file.Files.createDirectories(dir.resolve("vol1"));
        coordinator = Coordinator.start(CoordinatorConfig.of(Map.of(
                "http.host",
                "127.0.0.1",
                "http.port",
                0,
                "security.mode",
                "insecure", // the probes are anonymous either way; this test is about their paths
                "kafka.bootstrap.servers",
                kafka.bootstrapServers())));
        worker = Worker.start(WorkerConfig.of(Map.of(
                "pool",
                "deployment-it",
                "volumes",
                List.of(volume.toString()),
                "http.host",
                "127.0.0.1",
                "http.port",
                0,
                "in-use.quiet",
                "0s",
                "security.mode",
                "insecure",
                "kafka.bootstrap.servers",
                kafka.bootstrapServers())));
    }

    @AfterAll
    static void stop() {
        worker.close();
        coordinator.close();
        kafka.close();
    }

    @Test
    void everyProbePathInTheManifestsAnswersOnTheRealDaemons() {
        List<Daemon> daemons = new ArrayList<>(DeploymentChecks.composeDaemons(
                documents(read("docker-compose.yml")).get(0)));
        daemons.addAll(DeploymentManifestsTest.kubernetesDaemons(new ArrayList<>()));
        List<String> probed = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            probed.clear();
            List<String> problems = new ArrayList<>();
            for (Daemon daemon : daemons) {
                problems.addAll(probeProblems(daemon));
                daemon.probePaths().forEach(path -> probed.add(daemon.component() + " " + path));
            }
            assertThat(problems).isEmpty();
        });
        assertThat(probed).contains("worker /ready", "worker /health", "coordinator /ready", "coordinator /health");
    }

    @Test
    void aProbePathTheDaemonDoesNotServeIsCaught() throws Exception {
        Daemon worker = DeploymentManifestsTest.kubernetesDaemons(new ArrayList<>()).stream()
                .filter(d -> d.component().equals("worker"))
                .findFirst()
                .orElseThrow();
        Daemon wrong = new Daemon(
                worker.where(),
                worker.args(),
                worker.environment(),
                worker.configFile(),
                worker.port(),
                List.of("/readyz"));
        assertThat(probeProblems(wrong))
                .singleElement()
                .asString()
                .contains("/readyz")
                .contains("404");
    }

    private static List<String> probeProblems(Daemon daemon) throws Exception {
        List<String> problems = new ArrayList<>();
        Integer port =
                switch (daemon.component()) {
                    case "worker" -> worker.httpPort();
                    case "coordinator" -> coordinator.httpPort();
                    default -> null;
                };
        if (port == null) {
            return problems;
        }
        for (String path : daemon.probePaths()) {
            HttpResponse<String> response = HTTP.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                problems.add(daemon.where() + ": probe " + path + " answers " + response.statusCode() + " on a running "
                        + daemon.component());
            }
        }
        return problems;
    }
}
