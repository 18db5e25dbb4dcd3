package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.broker.KafkaBroker;
import io.chainmerge.broker.TopicProbe;
import io.chainmerge.common.campaign.BackupOutcome;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.JobKind;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.topic.Topics;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.testing.Oracles;
import io.chainmerge.worker.Worker;
import io.chainmerge.worker.WorkerConfig;
import io.cloudevents.CloudEvent;
import io.cloudevents.core.builder.CloudEventBuilder;
import io.cloudevents.jackson.JsonFormat;
import io.cloudevents.kafka.KafkaMessageFactory;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backup systems handing merges over as CloudEvents, against the embedded broker with real workers and
 * files: each request merges once however often it is delivered (Kafka in both content modes, and
 * HTTP), events for one chain in any order, a missing disk is refused {@code not-found}, a late one
 * {@code deadline-passed}, malformed events are answered {@code invalid}, a coordinator restart loses
 * and doubles nothing, and a nightly window of 1,000 events drains within the limits. Each test has a
 * topic prefix of its own, so tests share the broker and nothing else.
 */
class BackupIT {
    private static final JsonCodec JSON = new JsonCodec();
    private static final MessageCodec CODEC = new MessageCodec(JSON);
    private static final String RELEASED = "io.chainmerge.backup.checkpoint.released";
    private static final String CLEANUP = "io.chainmerge.backup.chain.cleanup-requested";

    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    @TempDir
    Path work;

    @Test
    void aReleasedCheckpointIsMergedOnceHoweverOftenAndHoweverItsEventArrives() throws Exception {
        Topics topics = new Topics("dup");
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path root = tinyRoot(volume.resolve("vm.vhd"));
        Path child = tinyChild(volume.resolve("vm_1.avhd"), root, 1);
        String before = DemoFleet.digest(child);
        CloudEvent event = released("/backup/veeam-01", "ev-1", "dup", child, null, null);
        try (Worker worker = Worker.start(WorkerConfig.of(worker(topics, "dup", List.of(volume), 1)));
                Coordinator coordinator = Coordinator.start(CoordinatorConfig.of(coordinator(topics, "c", Map.of())));
                TopicProbe.Reader notifications = broker.probe().reader(topics.notifications());
                TopicProbe.Reader results = broker.probe().reader(topics.results())) {
            broker.probe().send(structured(topics, "vm", event));
            broker.probe().send(binary(topics, "vm", event));
            broker.probe().send(structured(topics, "vm", event));
            HttpResponse<String> structured =
                    post(coordinator, "application/cloudevents+json", Map.of(), format(event));
            HttpResponse<String> binary = post(
                    coordinator,
                    "application/json",
                    Map.of(
                            "ce-specversion", "1.0",
                            "ce-id", event.getId(),
                            "ce-source", event.getSource().toString(),
                            "ce-type", event.getType()),
                    event.getData().toBytes());

            String url = "http://127.0.0.1:" + coordinator.httpPort();
            CliTest.Run cli = CliTest.chainmerge(
                    "backup",
                    "--coordinator",
                    url,
                    "publish",
                    "--source",
                    "/backup/veeam-01",
                    "--id",
                    "ev-1",
                    "--pool",
                    "dup",
                    "--disk",
                    child,
                    "--json");
            CliTest.Run rejected = CliTest.chainmerge(
                    "backup", "--coordinator", url, "publish", "--pool", "dup", "--disk", "vm_1.avhd");

            assertThat(rejected.exit()).isEqualTo(ExitCodes.USAGE);
            assertThat(rejected.out() + rejected.err()).contains("disk must be an absolute path");
            assertThat(cli.exit()).isEqualTo(ExitCodes.OK);
            assertThat(structured.statusCode()).isEqualTo(202);
            assertThat(binary.statusCode()).isEqualTo(202);
            String requestId = requestIdOf(structured);
            assertThat(requestIdOf(binary)).isEqualTo(requestId);
            assertThat(JSON.mapper().readTree(cli.out()).get("requestId").asText())
                    .isEqualTo(requestId);
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> !outcomes(notifications, requestId).isEmpty());
            // Delivered again after it was answered: still the same request, nothing new happens.
            broker.probe().send(structured(topics, "vm", event));
            assertThat(requestIdOf(post(coordinator, "application/cloudevents+json", Map.of(), format(event))))
                    .isEqualTo(requestId);
            await().during(Duration.ofSeconds(2))
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> notificationsOf(notifications, requestId).size() == 1);
            CloudEvent answer = notificationsOf(notifications, requestId).get(0);
            assertThat(answer.getType()).isEqualTo("io.chainmerge.merge.succeeded");
            assertThat(answer.getSubject()).isEqualTo(child.toString());
            BackupOutcome outcome = outcomeOf(answer);
            assertThat(outcome.merges()).singleElement().satisfies(merge -> {
                assertThat(merge.outcome()).isEqualTo(Outcome.SUCCEEDED);
                assertThat(merge.resultingChain()).containsExactly(root.toString());
            });
            // The results reader may still be joining its group (a single short poll) under load: wait for it.
            await().during(Duration.ofSeconds(2))
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> merges(results).size() == 1);
        }
        assertThat(child).doesNotExist();
        assertThat(DemoFleet.digest(root)).isEqualTo(before);
    }

    @Test
    void eventsForOneChainInEitherOrderEachMergeOnceOneAfterTheOther() throws Exception {
        Topics topics = new Topics("order");
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path root = tinyRoot(volume.resolve("db.vhd"));
        Path first = tinyChild(volume.resolve("db_1.avhd"), root, 1);
        Path second = tinyChild(volume.resolve("db_2.avhd"), first, 2);
        String before = DemoFleet.digest(second);
        try (Worker worker = Worker.start(WorkerConfig.of(worker(topics, "order", List.of(volume), 2)));
                Coordinator coordinator = Coordinator.start(CoordinatorConfig.of(coordinator(topics, "c", Map.of())));
                TopicProbe.Reader notifications = broker.probe().reader(topics.notifications());
                TopicProbe.Reader results = broker.probe().reader(topics.results())) {
            // The newer checkpoint's release comes first.
            broker.probe()
                    .send(structured(topics, "db", released("/backup/nightly", "db-2", "order", second, null, null)));
            broker.probe().send(binary(topics, "db", released("/backup/nightly", "db-1", "order", first, null, null)));
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> answers(notifications).size() == 2);
            assertThat(answers(notifications))
                    .extracting(CloudEvent::getType)
                    .containsOnly("io.chainmerge.merge.succeeded");
            await().atMost(Duration.ofSeconds(30)).until(() -> merges(results).size() >= 2);
            List<JobResult> merges = merges(results);
            assertThat(merges).hasSize(2);
            // A chain's merges never overlap (the worker would allow two at once on the volume).
            assertThat(mostAtOnce(merges, r -> "chain")).isEqualTo(1);
        }
        assertThat(first).doesNotExist();
        assertThat(second).doesNotExist();
        assertThat(DemoFleet.digest(root)).isEqualTo(before);
    }

    @Test
    void missingDisksAreRefusedNotFoundLateRequestsDeadlinePassedAndMalformedEventsInvalid() throws Exception {
        Topics topics = new Topics("refuse");
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path root = tinyRoot(volume.resolve("app.vhd"));
        Path child = tinyChild(volume.resolve("app_1.avhd"), root, 1);
        Path gone = tinyChild(volume.resolve("web_1.avhd"), tinyRoot(volume.resolve("web.vhd")), 2);
        Path late = tinyChild(volume.resolve("mail_1.avhd"), tinyRoot(volume.resolve("mail.vhd")), 3);
        String lateBefore = DemoFleet.digest(late);
        String source = "/backup/host-7";
        try (Worker worker = Worker.start(WorkerConfig.of(worker(topics, "refuse", List.of(volume), 1)));
                Coordinator coordinator = Coordinator.start(CoordinatorConfig.of(coordinator(topics, "c", Map.of())));
                TopicProbe.Reader notifications = broker.probe().reader(topics.notifications())) {
            // Malformed: not a CloudEvent at all, an unknown type, and bad data; the intake goes on after them.
            broker.probe()
                    .send(new ProducerRecord<>(
                            topics.backupEvents(), "x", "{not json".getBytes(StandardCharsets.UTF_8)));
            ProducerRecord<String, byte[]> brokenStructured =
                    new ProducerRecord<>(topics.backupEvents(), "x", "{not json".getBytes(StandardCharsets.UTF_8));
            brokenStructured
                    .headers()
                    .add("content-type", "application/cloudevents+json".getBytes(StandardCharsets.UTF_8));
            broker.probe().send(brokenStructured);
            broker.probe()
                    .send(structured(
                            topics,
                            "x",
                            CloudEventBuilder.v1(released(source, "odd", "refuse", child, null, null))
                                    .withType("com.example.backup.done")
                                    .build()));
            broker.probe()
                    .send(structured(
                            topics,
                            "x",
                            event(source, "relative", RELEASED, Map.of("pool", "refuse", "disk", "vm/x.avhd"))));
            HttpResponse<String> rejected = post(coordinator, "application/json", Map.of(), "{}".getBytes());
            assertThat(rejected.statusCode()).isEqualTo(400);
            assertThat(rejected.body()).contains("not-a-cloudevent");

            // Not on any volume: the space check the request waits for does not find it.
            broker.probe()
                    .send(structured(
                            topics,
                            "x",
                            released(source, "nowhere", "refuse", volume.resolve("nowhere.avhd"), null, null)));
            // The first scan puts gone.avhd in the inventory; then it disappears before its own request.
            broker.probe().send(structured(topics, "app", released(source, "app", "refuse", child, null, null)));
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> inventoryOf(coordinator).contains(gone.toString()));
            Files.delete(gone);
            broker.probe().send(structured(topics, "web", released(source, "web", "refuse", gone, null, null)));
            broker.probe()
                    .send(structured(
                            topics,
                            "mail",
                            released(
                                    source,
                                    "mail",
                                    "refuse",
                                    late,
                                    Instant.now().minus(Duration.ofMinutes(1)),
                                    9)));

            await().atMost(Duration.ofSeconds(60))
                    .until(() -> notifications(notifications).size() == 9);
            Map<String, CloudEvent> byId = notifications(notifications).stream()
                    .collect(Collectors.toMap(CloudEvent::getId, e -> e, (a, b) -> a, LinkedHashMap::new));
            List<Map<String, Object>> invalid = byId.values().stream()
                    .filter(e -> e.getType().equals("io.chainmerge.backup.request.invalid"))
                    .map(BackupIT::dataOf)
                    .toList();
            assertThat(invalid)
                    .extracting(d -> d.get("reason"))
                    .containsExactlyInAnyOrder(
                            "not-a-cloudevent", "not-a-cloudevent", "unknown-type", "invalid-data", "not-a-cloudevent");
            assertThat(invalid)
                    .extracting(d -> d.get("origin"))
                    .contains("POST /v1/backup-events")
                    .anySatisfy(origin -> assertThat(origin.toString()).startsWith("refuse.backup-events/"));
            assertThat(invalid)
                    .anySatisfy(d -> assertThat(d.get("message").toString()).contains("disk must be an absolute path"));

            assertThat(outcomeOf(answerTo(byId, source, "app")).outcome()).isEqualTo(Outcome.SUCCEEDED);
            BackupOutcome nowhere = outcomeOf(answerTo(byId, source, "nowhere"));
            assertThat(answerTo(byId, source, "nowhere").getType()).isEqualTo("io.chainmerge.merge.refused");
            assertThat(nowhere.reason()).isEqualTo("not-found");
            assertThat(nowhere.merges()).isEmpty(); // decided by the coordinator from a fresh scan
            BackupOutcome vanished = outcomeOf(answerTo(byId, source, "web"));
            assertThat(vanished.outcome()).isEqualTo(Outcome.REFUSED);
            assertThat(vanished.reason()).isEqualTo("not-found");
            assertThat(vanished.merges()).singleElement().satisfies(m -> assertThat(m.reason())
                    .isEqualTo("not-found")); // decided by the worker that looked for it
            BackupOutcome tooLate = outcomeOf(answerTo(byId, source, "mail"));
            assertThat(tooLate.outcome()).isEqualTo(Outcome.REFUSED);
            assertThat(tooLate.reason()).isEqualTo("deadline-passed");

            // The operator's view of the same requests: the API lists each with the outcome its notification told.
            JsonNode standing = JSON.mapper()
                    .readTree(get(coordinator, "/v1/campaigns?state=standing"))
                    .path("items");
            assertThat(standing).hasSize(1);
            JsonNode requests = JSON.mapper()
                    .readTree(get(
                            coordinator,
                            "/v1/campaigns/"
                                    + standing.get(0).path("campaignId").asText() + "/requests"))
                    .path("items");
            Map<String, JsonNode> listed = new LinkedHashMap<>();
            requests.forEach(r -> listed.put(r.path("eventId").asText(), r));
            assertThat(listed).containsOnlyKeys("app", "nowhere", "web", "mail");
            for (String eventId : listed.keySet()) {
                JsonNode request = listed.get(eventId);
                BackupOutcome told = outcomeOf(answerTo(byId, source, eventId));
                assertThat(request.path("requestId").asText()).isEqualTo(requestId(source, eventId));
                assertThat(request.path("status").asText()).isEqualTo("answered");
                assertThat(request.path("outcome").path("outcome").asText())
                        .isEqualTo(told.outcome().wireName());
                assertThat(
                                request.path("outcome").path("reason").isNull()
                                        ? null
                                        : request.path("outcome").path("reason").asText())
                        .isEqualTo(told.reason());
            }
        }
        assertThat(child).doesNotExist();
        assertThat(DemoFleet.digest(late)).isEqualTo(lateBefore);
    }

    @Test
    void aCleanupMergesEveryChainBelowItsFolderAndReportsWhatItLeftAlone() throws Exception {
        Topics topics = new Topics("cleanup");
        Path volume = Files.createDirectories(work.resolve("vol"));
        Path vm = Files.createDirectories(volume.resolve("vm01"));
        Path root = tinyRoot(vm.resolve("vm01.vhd"));
        Path top = tinyChild(vm.resolve("vm01_2.avhd"), tinyChild(vm.resolve("vm01_1.avhd"), root, 1), 2);
        String before = DemoFleet.digest(top);
        Path other = Files.createDirectories(volume.resolve("vm02"));
        Path otherChild = tinyChild(other.resolve("vm02_1.avhd"), tinyRoot(other.resolve("vm02.vhd")), 3);
        try (Worker worker = Worker.start(WorkerConfig.of(worker(topics, "cleanup", List.of(volume), 1)));
                Coordinator coordinator = Coordinator.start(CoordinatorConfig.of(coordinator(topics, "c", Map.of())));
                TopicProbe.Reader notifications = broker.probe().reader(topics.notifications())) {
            broker.probe()
                    .send(structured(
                            topics,
                            "vm01",
                            event(
                                    "/backup/b",
                                    "clean-1",
                                    CLEANUP,
                                    Map.of("pool", "cleanup", "folder", vm.toString()))));
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> answers(notifications).size() == 1);
            CloudEvent answer = answers(notifications).get(0);
            assertThat(answer.getType()).isEqualTo("io.chainmerge.merge.succeeded");
            assertThat(outcomeOf(answer).merges()).singleElement().satisfies(m -> assertThat(m.resultingChain())
                    .containsExactly(root.toString()));
        }
        assertThat(top).doesNotExist();
        assertThat(DemoFleet.digest(root)).isEqualTo(before);
        assertThat(otherChild).exists(); // not below the folder
    }

    @Test
    void aCoordinatorKilledWhileRequestsArriveLosesNoneAndMergesNoneTwice() throws Exception {
        Topics topics = new Topics("kill");
        Path volume = Files.createDirectories(work.resolve("vol"));
        int chains = 8;
        List<Path> children = new ArrayList<>();
        List<Path> roots = new ArrayList<>();
        List<String> digests = new ArrayList<>();
        for (int i = 0; i < chains; i++) {
            Path root = tinyRoot(volume.resolve("vm" + i + ".vhd"));
            Path child = tinyChild(volume.resolve("vm" + i + "_1.avhd"), root, i);
            roots.add(root);
            children.add(child);
            digests.add(DemoFleet.digest(child));
        }
        String source = "/backup/kill";
        // A short session, so the killed coordinator's consumers leave their groups soon.
        Map<String, Object> settings = coordinator(
                topics, "doomed", Map.of("kafka.session.timeout.ms", "6000", "kafka.heartbeat.interval.ms", "1000"));
        Path config = work.resolve("coordinator.yaml");
        Files.writeString(config, JSON.yaml().writeValueAsString(settings));
        try (Worker worker = Worker.start(WorkerConfig.of(worker(topics, "kill", List.of(volume), 1)));
                TopicProbe.Reader notifications = broker.probe().reader(topics.notifications());
                TopicProbe.Reader results = broker.probe().reader(topics.results())) {
            Process doomed = new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString(),
                            "-jar",
                            Path.of("target/chainmerge.jar").toAbsolutePath().toString(),
                            "coordinator",
                            "--config",
                            config.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(work.resolve("doomed.log").toFile())
                    .start();
            try {
                for (int i = 0; i < chains - 1; i++) {
                    broker.probe()
                            .send(structured(
                                    topics, "vm" + i, released(source, "e" + i, "kill", children.get(i), null, null)));
                }
                await().atMost(Duration.ofSeconds(90))
                        .until(() -> answers(notifications).size() >= 2);
                doomed.destroyForcibly().waitFor(); // SIGKILL, mid-window
            } finally {
                doomed.destroyForcibly();
            }
            // While no coordinator runs: a new event, and two old ones delivered again.
            int last = chains - 1;
            broker.probe()
                    .send(structured(
                            topics, "vm" + last, released(source, "e" + last, "kill", children.get(last), null, null)));
            broker.probe().send(binary(topics, "vm0", released(source, "e0", "kill", children.get(0), null, null)));
            broker.probe().send(binary(topics, "vm5", released(source, "e5", "kill", children.get(5), null, null)));
            try (Coordinator second = Coordinator.start(CoordinatorConfig.of(settings))) {
                await().atMost(Duration.ofSeconds(90))
                        .until(() -> answers(notifications).size() == chains);
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> merges(results).size() >= chains);
            }
            assertThat(answers(notifications))
                    .extracting(CloudEvent::getType)
                    .containsOnly("io.chainmerge.merge.succeeded");
            // One run per request: a job sent again after the kill is answered from the worker's journal.
            assertThat(merges(results))
                    .extracting(JobResult::jobId)
                    .hasSize(chains)
                    .doesNotHaveDuplicates();
        }
        for (int i = 0; i < chains; i++) {
            assertThat(children.get(i)).doesNotExist();
            assertThat(DemoFleet.digest(roots.get(i))).isEqualTo(digests.get(i));
        }
    }

    @Test
    void aNightlyWindowOfAThousandEventsDrainsWithinTheLimitsMostUrgentFirst() throws Exception {
        Topics topics = new Topics("nightly");
        Path volumes = Files.createDirectories(work.resolve("volumes"));
        Oracles.Result mount =
                Oracles.run(List.of("mount", "-t", "tmpfs", "-o", "size=192m", "tmpfs", volumes.toString()), false);
        Assumptions.assumeTrue(
                mount.exitCode() == 0,
                () -> "cannot mount a tmpfs here (needs root): "
                        + mount.output().strip());
        try {
            int events = 1000;
            int urgent = 100;
            List<Path> roots = new ArrayList<>();
            for (int v = 0; v < 8; v++) {
                roots.add(Files.createDirectories(volumes.resolve("vol" + v)));
            }
            List<Path> children = new ArrayList<>();
            for (int i = 0; i < events; i++) {
                // A folder per VM, as Hyper-V keeps them: the engine looks for other children in a chain's folders.
                Path dir = Files.createDirectories(roots.get(i % roots.size()).resolve("vm" + i));
                children.add(tinyChild(dir.resolve("vm" + i + "_1.avhd"), tinyRoot(dir.resolve("vm" + i + ".vhd")), i));
            }
            Map<String, Object> settings = coordinator(
                    topics,
                    "nightly",
                    Map.of("backup.limits.per-volume", 1, "backup.limits.overall", 6, "topics.partitions", 8));
            long start = System.nanoTime();
            try (Worker worker = Worker.start(WorkerConfig.of(worker(topics, "nightly", roots, 2)));
                    Coordinator coordinator = Coordinator.start(CoordinatorConfig.of(settings));
                    TopicProbe.Reader notifications = broker.probe().reader(topics.notifications());
                    TopicProbe.Reader results = broker.probe().reader(topics.results());
                    KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                            Map.<String, Object>of("bootstrap.servers", broker.bootstrapServers(), "linger.ms", 5),
                            new StringSerializer(),
                            new ByteArraySerializer())) {
                // The urgent ones come last in the window.
                for (int i = 0; i < events; i++) {
                    Integer priority = i >= events - urgent ? 9 : null;
                    CloudEvent event =
                            released("/backup/nightly", "n-" + i, "nightly", children.get(i), null, priority);
                    producer.send(i % 2 == 0 ? structured(topics, "vm" + i, event) : binary(topics, "vm" + i, event));
                }
                producer.flush();
                await().atMost(Duration.ofMinutes(2))
                        .pollInterval(Duration.ofSeconds(1))
                        .conditionEvaluationListener(condition -> {
                            if (condition.getElapsedTimeInMS() / 1000 % 10 == 0) {
                                List<JobResult> run = merges(results);
                                System.out.printf(
                                        "nightly window: %d of %d answered, %d merges run (%.0f ms each) after %d s%n",
                                        answers(notifications).size(),
                                        events,
                                        run.size(),
                                        run.stream()
                                                .mapToLong(r -> r.duration().toMillis())
                                                .average()
                                                .orElse(0),
                                        condition.getElapsedTimeInMS() / 1000);
                            }
                        })
                        .until(() -> answers(notifications).size() == events);
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> merges(results).size() >= events);
                List<CloudEvent> answers = answers(notifications);
                assertThat(answers).extracting(CloudEvent::getType).containsOnly("io.chainmerge.merge.succeeded");
                List<JobResult> merges = merges(results);
                assertThat(merges).hasSize(events);
                Map<String, String> volumeOfChild = new HashMap<>();
                Map<String, Integer> priorityOfJob = new HashMap<>();
                for (CloudEvent answer : answers) {
                    BackupOutcome outcome = outcomeOf(answer);
                    Path child = Path.of(outcome.merges().get(0).child());
                    volumeOfChild.put(
                            outcome.merges().get(0).jobId(),
                            child.getParent().getParent().toString());
                    int index = children.indexOf(child);
                    priorityOfJob.put(outcome.merges().get(0).jobId(), index >= events - urgent ? 9 : 0);
                }
                // The coordinator's limits held (the worker alone would have run two per volume, sixteen in all).
                assertThat(mostAtOnce(merges, r -> volumeOfChild.get(r.jobId())))
                        .isEqualTo(1);
                assertThat(mostAtOnce(merges, r -> "all")).isBetween(2, 6);
                // The urgent requests, sent last, did not wait behind most of the others.
                List<JobResult> byStart = merges.stream()
                        .sorted(Comparator.comparing(JobResult::startedAt))
                        .toList();
                int lastUrgent = 0;
                for (int i = 0; i < byStart.size(); i++) {
                    if (priorityOfJob.get(byStart.get(i).jobId()) == 9) {
                        lastUrgent = i;
                    }
                }
                assertThat(lastUrgent).isLessThan(events / 2);
                System.out.printf(
                        "nightly window: %d events drained in %.1f s%n", events, (System.nanoTime() - start) / 1e9);
            }
            assertThat(children).allSatisfy(child -> assertThat(child).doesNotExist());
        } finally {
            Oracles.run(List.of("umount", volumes.toString()), false);
        }
    }

    // ---- helpers ----

    private static Map<String, Object> worker(Topics topics, String pool, List<Path> volumes, int perVolume) {
        Map<String, Object> settings = new HashMap<>(
                CampaignScenario.workerSettings(pool, "w-" + pool, volumes, broker.bootstrapServers(), "0"));
        settings.put("topics.prefix", topics.prefix());
        settings.put("concurrency.per-volume", perVolume);
        return settings;
    }

    private static Map<String, Object> coordinator(Topics topics, String id, Map<String, Object> extra) {
        Map<String, Object> settings = new HashMap<>(CampaignScenario.coordinatorSettings(broker.bootstrapServers()));
        settings.put("topics.prefix", topics.prefix());
        settings.put("coordinator.id", id);
        // The intake, not the API's guard, is tested here: any source, no token (AuthIT tests the guard).
        settings.put("security.mode", "insecure");
        settings.putAll(extra);
        return settings;
    }

    /** A dynamic VHD root of 1 MiB with 64 KiB blocks: small enough for a thousand of them on a tmpfs. */
    private static Path tinyRoot(Path file) throws IOException {
        try (VirtualDisk disk = DiskFiles.create(file, DiskSpec.dynamic(1 << 20).withBlockSize(1 << 16))) {
            write(disk, 7);
        }
        return file;
    }

    private static Path tinyChild(Path file, Path parent, long seed) throws IOException {
        try (VirtualDisk p = DiskFiles.open(parent, Access.READ);
                VirtualDisk disk = DiskFiles.createDifferencing(file, p)) {
            write(disk, seed);
        }
        return file;
    }

    private static void write(VirtualDisk disk, long seed) throws IOException {
        Random random = new Random(seed);
        byte[] data = new byte[4096];
        random.nextBytes(data);
        disk.write((long) random.nextInt(256) * 4096, ByteBuffer.wrap(data));
        disk.commit();
    }

    private static CloudEvent released(
            String source, String id, String pool, Path disk, Instant deadline, Integer priority) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("pool", pool);
        data.put("disk", disk.toString());
        if (deadline != null) {
            data.put("deadline", deadline.toString());
        }
        if (priority != null) {
            data.put("priority", priority);
        }
        return event(source, id, RELEASED, data);
    }

    private static CloudEvent event(String source, String id, String type, Map<String, Object> data) {
        return CloudEventBuilder.v1()
                .withId(id)
                .withSource(URI.create(source))
                .withType(type)
                .withData("application/json", JSON.write(data).getBytes(StandardCharsets.UTF_8))
                .build();
    }

    private static ProducerRecord<String, byte[]> structured(Topics topics, String key, CloudEvent event) {
        return KafkaMessageFactory.<String>createWriter(topics.backupEvents(), key)
                .writeStructured(event, new JsonFormat());
    }

    private static ProducerRecord<String, byte[]> binary(Topics topics, String key, CloudEvent event) {
        return KafkaMessageFactory.<String>createWriter(topics.backupEvents(), key)
                .writeBinary(event);
    }

    private static byte[] format(CloudEvent event) {
        return new JsonFormat().serialize(event);
    }

    private static HttpResponse<String> post(
            Coordinator coordinator, String contentType, Map<String, String> headers, byte[] body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + coordinator.httpPort() + "/v1/backup-events"))
                .header("content-type", contentType)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(request::header);
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String requestIdOf(HttpResponse<String> response) throws IOException {
        return JSON.mapper().readTree(response.body()).get("requestId").asText();
    }

    private static String get(Coordinator coordinator, String path) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + coordinator.httpPort() + path))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    private static String inventoryOf(Coordinator coordinator) throws Exception {
        return get(coordinator, "/v1/inventory");
    }

    private static List<CloudEvent> notifications(TopicProbe.Reader reader) {
        return reader.poll().stream()
                .map(KafkaMessageFactory::createReader)
                .map(r -> r.toEvent())
                .toList();
    }

    /** The outcome notifications, one per request however often each was sent (their ids are the request's). */
    private static List<CloudEvent> answers(TopicProbe.Reader reader) {
        Map<String, CloudEvent> byId = new TreeMap<>();
        for (CloudEvent event : notifications(reader)) {
            if (event.getType().startsWith("io.chainmerge.merge.")) {
                byId.putIfAbsent(event.getId(), event);
            }
        }
        return List.copyOf(byId.values());
    }

    private static List<CloudEvent> notificationsOf(TopicProbe.Reader reader, String requestId) {
        return notifications(reader).stream()
                .filter(e -> requestId.equals(e.getExtension("correlationid")))
                .toList();
    }

    private static List<BackupOutcome> outcomes(TopicProbe.Reader reader, String requestId) {
        return notificationsOf(reader, requestId).stream()
                .map(BackupIT::outcomeOf)
                .toList();
    }

    private static CloudEvent answerTo(Map<String, CloudEvent> byId, String source, String eventId) {
        return byId.values().stream()
                .filter(e -> e.getType().startsWith("io.chainmerge.merge."))
                .filter(e -> e.getId().equals(requestId(source, eventId) + "/outcome"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no answer to " + eventId));
    }

    /** The request id as docs/backup-integration.md defines it. */
    private static String requestId(String source, String eventId) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest((source + "\n" + eventId).getBytes(StandardCharsets.UTF_8));
            return "br-" + java.util.HexFormat.of().formatHex(digest, 0, 12);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static BackupOutcome outcomeOf(CloudEvent event) {
        try {
            return JSON.mapper().readValue(event.getData().toBytes(), BackupOutcome.class);
        } catch (IOException e) {
            throw new AssertionError("not an outcome: " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> dataOf(CloudEvent event) {
        try {
            return JSON.mapper()
                    .readValue(event.getData().toBytes(), new com.fasterxml.jackson.core.type.TypeReference<>() {});
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Every merge that ran (a redelivered job's answer from its journal is not a run). */
    private static List<JobResult> merges(TopicProbe.Reader results) {
        return results.poll().stream()
                .map(ConsumerRecord::value)
                .map(v -> {
                    try {
                        return CODEC.read(v, JobResult.class);
                    } catch (Exception e) {
                        return null;
                    }
                })
                .filter(Objects::nonNull)
                .filter(r -> r.kind() == JobKind.MERGE && !r.redelivered())
                .toList();
    }

    /** The most merges that ran at once within one group, from the workers' own start times and durations. */
    private static int mostAtOnce(Collection<JobResult> merges, java.util.function.Function<JobResult, String> group) {
        Map<String, List<long[]>> edges = new HashMap<>();
        for (JobResult merge : merges) {
            long from =
                    merge.startedAt().toEpochMilli() * 1000 + merge.startedAt().getNano() / 1000 % 1000;
            long to = from + merge.duration().toNanos() / 1000;
            edges.computeIfAbsent(group.apply(merge), g -> new ArrayList<>()).add(new long[] {from, +1});
            edges.get(group.apply(merge)).add(new long[] {to, -1});
        }
        int most = 0;
        for (List<long[]> list : edges.values()) {
            // Ends before starts at the same instant: one merge ending as the next begins is not overlap.
            list.sort(Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1]));
            int now = 0;
            for (long[] edge : list) {
                now += (int) edge[1];
                most = Math.max(most, now);
            }
        }
        return most;
    }
}
