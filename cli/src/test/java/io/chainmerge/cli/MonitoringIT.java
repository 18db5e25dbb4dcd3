package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chainmerge.broker.KafkaBroker;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.log.LogContext;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import io.chainmerge.worker.Worker;
import io.chainmerge.worker.WorkerConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What operators are given to watch chainmerge works on a running system: every metric and label that the Grafana
 * dashboard and the alert rules under k8s/monitoring/ query is on a worker's or the coordinator's {@code /metrics}
 * once a campaign ran, and the daemons' JSON log lines parse and carry the campaign, job, pool and worker of the
 * job they concern.
 */
class MonitoringIT {
    private static final Path MONITORING = DeploymentChecks.ROOT.resolve("k8s/monitoring");

    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    @TempDir
    Path work;

    @Test
    void theDashboardAndTheAlertsQueryOnlyWhatTheDaemonsExportAndTheJsonLogNamesEachJob() throws Exception {
        Path a1 = Files.createDirectories(work.resolve("a/vol1"));
        Path a2 = Files.createDirectories(work.resolve("a/vol2"));
        Path b1 = Files.createDirectories(work.resolve("b/vol1"));
        new DemoFleet().build(a1, a2, b1, new PrintWriter(new StringWriter()));
        String bootstrap = broker.bootstrapServers();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Appender<ILoggingEvent> text = DaemonLogging.jsonTo(log);
        String workerScrape;
        String coordinatorScrape;
        try (Coordinator coordinator =
                        Coordinator.start(CoordinatorConfig.of(CampaignScenario.coordinatorSettings(bootstrap)));
                Worker worker = Worker.start(WorkerConfig.of(pacedWorker(a1, a2, b1, bootstrap)))) {
            CampaignClient client = new CampaignClient(
                    "http://127.0.0.1:" + coordinator.httpPort(), ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
            String id = client.submit(
                    """
                    name: monitoring
                    pools: [pool-a]
                    select: {glob: "*.avhdx"}
                    action: merge-to-root
                    limits: {perVolume: 1, perPool: 2}
                    """);
            await().atMost(Duration.ofMinutes(2))
                    .pollInterval(Duration.ofMillis(300))
                    .until(() -> client.show(id).state() == CampaignState.FINISHED);
            assertThat(client.show(id).totals().merged()).isPositive();
            // The leader reads the pools' lag every Coordinator.LAG_EVERY; the pool's group exists once the worker
            // joined.
            await().atMost(Duration.ofSeconds(40))
                    .pollInterval(Duration.ofSeconds(1))
                    .until(() ->
                            scrape(coordinator.httpPort()).contains("chainmerge_pool_lag_offsets{pool=\"pool-a\""));
            // GC pause series appear at a JVM's first collection; the daemons run in this JVM, so make one happen.
            System.gc();
            Thread.sleep(200);
            workerScrape = scrape(worker.httpPort());
            coordinatorScrape = scrape(coordinator.httpPort());
        } finally {
            DaemonLogging.restore(text);
        }
        Files.writeString(Path.of("target", "monitoring-worker.prom"), workerScrape);
        Files.writeString(Path.of("target", "monitoring-coordinator.prom"), coordinatorScrape);
        Files.write(Path.of("target", "monitoring-log.jsonl"), log.toByteArray());

        Map<String, Set<String>> series = new TreeMap<>(PromQueries.series(workerScrape));
        PromQueries.series(coordinatorScrape)
                .forEach((name, labels) ->
                        series.computeIfAbsent(name, k -> new TreeSet<>()).addAll(labels));
        List<PromQueries.Query> queries = new ArrayList<>();
        queries.addAll(PromQueries.dashboard(MONITORING.resolve("chainmerge-dashboard.json")));
        queries.addAll(PromQueries.rules(MONITORING.resolve("prometheus-rules.yaml")));
        assertThat(queries).as("the dashboard's and the rules' expressions").hasSizeGreaterThan(10);
        assertThat(PromQueries.missing(queries, series)).isEmpty();

        List<JsonNode> lines = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : log.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                lines.add(json.readTree(line)); // every line is one JSON object
            }
        }
        List<JsonNode> jobLines = lines.stream()
                .filter(l -> l.path("formattedMessage").asText().matches("job \\S+ (started|ended).*"))
                .toList();
        assertThat(jobLines).isNotEmpty();
        assertThat(jobLines).allSatisfy(line -> {
            JsonNode mdc = line.path("mdc");
            assertThat(mdc.path(LogContext.CAMPAIGN).asText()).startsWith("c-");
            assertThat(line.path("formattedMessage").asText())
                    .contains(mdc.path(LogContext.JOB).asText());
            assertThat(mdc.path(LogContext.POOL).asText()).isEqualTo("pool-a");
            assertThat(mdc.path(LogContext.WORKER).asText()).isEqualTo("host-a");
            assertThat(line.path("time").asText())
                    .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d.*([+-]\\d\\d:\\d\\d|Z)");
        });
        assertThat(jobLines)
                .anySatisfy(line -> assertThat(line.path("formattedMessage").asText())
                        .matches("job \\S+ ended: merge succeeded in \\d+ ms, [1-9]\\d* bytes merged"));
        // The coordinator's lines about a campaign name it too.
        assertThat(lines)
                .anySatisfy(line -> assertThat(line.path("formattedMessage").asText())
                        .matches("campaign \\S+ finished")
                        .contains(line.path("mdc").path(LogContext.CAMPAIGN).asText("missing")));
    }

    /** Paced by latency, so that the pacing panels' series exist. */
    private static Map<String, Object> pacedWorker(Path a1, Path a2, Path b1, String bootstrap) {
        Map<String, Object> settings = new java.util.HashMap<>(
                CampaignScenario.workerSettings("pool-a", "host-a", List.of(a1, a2, b1), bootstrap, "0"));
        settings.put("io.latency-target", "50ms");
        return settings;
    }

    private static String scrape(int port) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }
}
