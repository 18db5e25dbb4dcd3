package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.common.kafka.KafkaClients;
import io.chainmerge.common.kafka.KafkaRole;
import io.chainmerge.common.topic.Topics;
import io.chainmerge.worker.Worker;
import io.chainmerge.worker.WorkerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka identities by role against a broker that authenticates with SASL/SCRAM and authorizes with KRaft's
 * {@code StandardAuthorizer}: a whole campaign runs with each daemon allowed only its role's ACLs (the
 * scenario this class inherits), and a worker's identity is refused what its role does not need.
 */
class KafkaAclsIT extends CampaignScenario {
    private static final Topics TOPICS = new Topics("chainmerge");
    private static final AtomicInteger USERS = new AtomicInteger();

    @TempDir
    static Path brokerDir;

    static EmbeddedKafka kafka;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.startWithAcls(
                brokerDir.resolve("kafka"), new EmbeddedKafka.SuperUser("it-admin", "it-admin-secret"), Map.of());
    }

    @AfterAll
    static void stopBroker() {
        kafka.close();
    }

    @Override
    String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    @Override
    Map<String, ?> probeSettings() {
        return kafka.superUserSettings();
    }

    /** A new SCRAM user with exactly {@code role}'s ACLs. */
    @Override
    Map<String, Object> kafkaIdentity(KafkaRole role) throws Exception {
        String user = role.name() + "-" + USERS.incrementAndGet();
        kafka.addUser(user, user + "-secret");
        try (Admin admin = superAdmin()) {
            KafkaClients.createAcls(admin, role.bindings("User:" + user));
        }
        return daemonSettings(user);
    }

    private static Map<String, Object> daemonSettings(String user) {
        Map<String, Object> settings = new HashMap<>();
        kafka.clientSettings(user, user + "-secret").forEach((key, value) -> settings.put("kafka." + key, value));
        return settings;
    }

    private static Admin superAdmin() {
        return Admin.create(new HashMap<>(kafka.superUserSettings()));
    }

    private static Map<String, Object> client(String user) {
        return new HashMap<>(kafka.clientSettings(user, user + "-secret"));
    }

    @Test
    void aWorkersIdentityWritesResultsButNeitherJobsNorCampaignsNorReadsAnotherPoolsJobs() throws Exception {
        // The topics exist, as the coordinator would have made them: the refusals are about rights, not absence.
        try (Admin admin = superAdmin()) {
            List<Topics.TopicSpec> all = new ArrayList<>(TOPICS.shared());
            all.add(TOPICS.jobsSpec("pool-a"));
            all.add(TOPICS.jobsSpec("pool-b"));
            KafkaClients.ensureTopics(admin, all, 1, (short) 1);
        }
        kafka.addUser("storage-a", "storage-a-secret");
        Path adminConfig = brokerDir.resolve("admin.properties");
        StringBuilder properties = new StringBuilder();
        kafka.superUserSettings().forEach((key, value) -> properties
                .append(key)
                .append('=')
                .append(value.replace("\\", "\\\\"))
                .append('\n'));
        Files.writeString(adminConfig, properties);
        CliTest.Run applied = CliTest.chainmerge(
                "kafka",
                "acls",
                "--role",
                "worker",
                "--pool",
                "pool-a",
                "--principal",
                "User:storage-a",
                "--apply",
                "--kafka-config",
                adminConfig);
        assertThat(applied.exit()).as(applied.err()).isEqualTo(ExitCodes.OK);
        assertThat(applied.out()).contains("applied User:storage-a (worker)").contains("chainmerge.jobs.pool-a");

        KafkaRole.Worker poolA = new KafkaRole.Worker(TOPICS, "pool-a");
        Map<String, Object> producer =
                new KafkaClients(Map.of("bootstrap.servers", kafka.bootstrapServers())).producer("storage-a-probe");
        producer.putAll(client("storage-a"));
        producer.put("max.block.ms", 15_000);
        try (KafkaProducer<String, byte[]> storageA = new KafkaProducer<>(producer)) {
            // What a worker does is allowed: without this, every refusal below could be a broken login.
            storageA.send(new ProducerRecord<>(TOPICS.results(), "job", new byte[] {'{', '}'}))
                    .get(30, TimeUnit.SECONDS);
            for (String forbidden : List.of(TOPICS.campaigns(), TOPICS.jobs("pool-a"), TOPICS.jobs("pool-b"))) {
                assertThatThrownBy(() -> storageA.send(new ProducerRecord<>(forbidden, "x", new byte[] {'{', '}'}))
                                .get(30, TimeUnit.SECONDS))
                        .as("a worker publishing to %s", forbidden)
                        .isInstanceOf(ExecutionException.class)
                        .hasCauseInstanceOf(TopicAuthorizationException.class)
                        .hasMessageContaining(forbidden);
            }
        }

        Map<String, Object> consumer = new KafkaClients(Map.of("bootstrap.servers", kafka.bootstrapServers()))
                .consumer("storage-a-reader", poolA.poolGroup());
        consumer.putAll(client("storage-a"));
        try (KafkaConsumer<String, byte[]> reader = new KafkaConsumer<>(consumer)) {
            reader.assign(List.of(new TopicPartition(TOPICS.jobs("pool-b"), 0)));
            assertThatThrownBy(() -> reader.poll(Duration.ofSeconds(10)))
                    .isInstanceOf(TopicAuthorizationException.class)
                    .hasMessageContaining(TOPICS.jobs("pool-b"));
        }
        consumer.put("group.id", new KafkaRole.Worker(TOPICS, "pool-b").poolGroup());
        try (KafkaConsumer<String, byte[]> reader = new KafkaConsumer<>(consumer)) {
            reader.subscribe(List.of(TOPICS.jobs("pool-a")));
            assertThatThrownBy(() -> reader.poll(Duration.ofSeconds(10)))
                    .as("another pool's consumer group")
                    .isInstanceOf(GroupAuthorizationException.class);
        }
    }

    @Test
    void aBackupSystemsIdentityPublishesEventsButNeitherOutcomesNorJobs() throws Exception {
        try (Admin admin = superAdmin()) {
            List<Topics.TopicSpec> all = new ArrayList<>(TOPICS.shared());
            all.add(TOPICS.jobsSpec("pool-a"));
            KafkaClients.ensureTopics(admin, all, 1, (short) 1);
        }
        Map<String, Object> identity = kafkaIdentity(new KafkaRole.BackupSystem(TOPICS, Optional.empty()));
        Map<String, Object> producer =
                new KafkaClients(Map.of("bootstrap.servers", kafka.bootstrapServers())).producer("backup-probe");
        identity.forEach((key, value) -> producer.put(key.substring("kafka.".length()), value));
        producer.put("max.block.ms", 15_000);
        try (KafkaProducer<String, byte[]> backup = new KafkaProducer<>(producer)) {
            backup.send(new ProducerRecord<>(TOPICS.backupEvents(), "vm", new byte[] {'{', '}'}))
                    .get(30, TimeUnit.SECONDS);
            for (String forbidden : List.of(TOPICS.notifications(), TOPICS.campaigns(), TOPICS.jobs("pool-a"))) {
                assertThatThrownBy(() -> backup.send(new ProducerRecord<>(forbidden, "x", new byte[] {'{', '}'}))
                                .get(30, TimeUnit.SECONDS))
                        .as("a backup system publishing to %s", forbidden)
                        .hasCauseInstanceOf(TopicAuthorizationException.class);
            }
        }
    }

    @Test
    void aWorkerWithAnotherPoolsIdentityDoesNotStartAndSaysWhichTopicItMayNotUse() throws Exception {
        Map<String, Object> settings = new HashMap<>(workerSettings(
                "pool-b",
                "impostor",
                List.of(Files.createDirectories(work.resolve("impostor"))),
                kafka.bootstrapServers(),
                "0"));
        settings.putAll(kafkaIdentity(new KafkaRole.Worker(TOPICS, "pool-a")));
        assertThatThrownBy(() -> Worker.start(WorkerConfig.of(settings)).close())
                .hasMessageContaining(TOPICS.jobs("pool-b"))
                .hasMessageContaining("uthoriz");
    }

    @Test
    void aWorkerWhoseIdentityMayNotJoinItsPoolsGroupIsNotReadyAndSaysWhy() throws Exception {
        KafkaRole.Worker poolB = new KafkaRole.Worker(TOPICS, "pool-b");
        String user = "no-group";
        kafka.addUser(user, user + "-secret");
        try (Admin admin = superAdmin()) {
            KafkaClients.createAcls(
                    admin,
                    poolB.bindings("User:" + user).stream()
                            .filter(acl -> acl.pattern().resourceType() != ResourceType.GROUP)
                            .toList());
        }
        Map<String, Object> settings = new HashMap<>(workerSettings(
                "pool-b",
                "no-group",
                List.of(Files.createDirectories(work.resolve("no-group"))),
                kafka.bootstrapServers(),
                "0"));
        settings.putAll(daemonSettings(user));
        HttpClient http = HttpClient.newHttpClient();
        try (Worker worker = Worker.start(WorkerConfig.of(settings))) {
            URI ready = URI.create("http://127.0.0.1:" + worker.httpPort() + "/ready");
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                HttpResponse<String> answer =
                        http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(answer.statusCode()).isEqualTo(503);
                assertThat(answer.body()).contains(poolB.poolGroup()).contains("uthoriz");
            });
            assertThat(worker.died().toCompletableFuture().getNow("alive")).contains(poolB.poolGroup());
        }
    }
}
