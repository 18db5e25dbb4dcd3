package io.chainmerge.cli;

import static io.chainmerge.cli.DeploymentChecks.documents;
import static io.chainmerge.cli.DeploymentChecks.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.cli.DeploymentChecks.Daemon;
import io.chainmerge.common.config.Config;
import io.chainmerge.common.topic.Topics;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import io.chainmerge.worker.Worker;
import io.chainmerge.worker.WorkerConfig;
import java.io.FileInputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker-compose.yml's Kafka, without Docker: the kafka service's environment becomes broker settings as the
 * apache/kafka image makes them, a real KRaft broker starts with them (only its addresses and data folder
 * moved to this machine), the users and ACLs are made as the compose file's kafka-users and kafka-acls
 * services make them, and the coordinator and a worker start with the Kafka settings the compose file gives
 * them, each held to its role.
 */
class ComposeKafkaIT {
    /** What the image's start script keeps out of server.properties (kafka-propertiesSpec.json, "excludes"). */
    static final Set<String> NOT_BROKER_SETTINGS = Set.of(
            "KAFKA_VERSION",
            "KAFKA_HEAP_OPT",
            "KAFKA_LOG4J_OPTS",
            "KAFKA_OPTS",
            "KAFKA_JMX_OPTS",
            "KAFKA_JVM_PERFORMANCE_OPTS",
            "KAFKA_GC_LOG_OPTS",
            "KAFKA_LOG4J_ROOT_LOGLEVEL",
            "KAFKA_LOG4J_LOGGERS",
            "KAFKA_TOOLS_LOG4J_LOGLEVEL");

    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    /**
     * The apache/kafka image's naming (docker/examples/README.md of Apache Kafka): a setting's "." is "_", its
     * "_" is "__" and its "-" is "___", in upper case after KAFKA_.
     */
    static String brokerSetting(String variable) {
        String name = variable.substring("KAFKA_".length()).toLowerCase(java.util.Locale.ROOT);
        StringBuilder setting = new StringBuilder();
        int i = 0;
        while (i < name.length()) {
            if (name.startsWith("___", i)) {
                setting.append('-');
                i += 3;
            } else if (name.startsWith("__", i)) {
                setting.append('_');
                i += 2;
            } else if (name.charAt(i) == '_') {
                setting.append('.');
                i++;
            } else {
                setting.append(name.charAt(i++));
            }
        }
        return setting.toString();
    }

    @Test
    void theImagesNamingTurnsVariablesIntoSettings() {
        assertThat(brokerSetting("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP")).isEqualTo("listener.security.protocol.map");
        assertThat(brokerSetting("KAFKA_LISTENER_NAME_CLIENTS_SCRAM___SHA___512_SASL_JAAS_CONFIG"))
                .isEqualTo("listener.name.clients.scram-sha-512.sasl.jaas.config");
        assertThat(brokerSetting("KAFKA_ABC__DEF")).isEqualTo("abc_def");
    }

    @Test
    void theComposeBrokerTakesOnlyTheDaemonsUsersAndHoldsEachToItsRole() throws Exception {
        JsonNode compose = documents(read("docker-compose.yml")).get(0);
        Map<String, String> kafkaEnvironment = environment(compose, "kafka");

        // The broker's settings, as the image writes server.properties; then only addresses and data moved here.
        Properties broker = new Properties();
        kafkaEnvironment.forEach((variable, value) -> {
            if (variable.startsWith("KAFKA_") && !NOT_BROKER_SETTINGS.contains(variable)) {
                broker.setProperty(brokerSetting(variable), value);
            }
        });
        assertThat(broker.getProperty("allow.everyone.if.no.acl.found")).isEqualTo("false");
        assertThat(broker.getProperty("authorizer.class.name")).endsWith("StandardAuthorizer");
        assertThat(broker.getProperty("listener.security.protocol.map")).doesNotContain(":PLAINTEXT");
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String listener : broker.getProperty("listeners").split(",")) {
            ports.put(listener.substring(0, listener.indexOf(':')), freePort());
        }
        broker.setProperty("listeners", moved(broker.getProperty("listeners"), ports));
        broker.setProperty("advertised.listeners", moved(broker.getProperty("advertised.listeners"), ports));
        String controller = broker.getProperty("controller.listener.names");
        broker.setProperty(
                "controller.quorum.voters",
                broker.getProperty("controller.quorum.voters")
                        .replaceAll("@[^:]+:\\d+", "@127.0.0.1:" + ports.get(controller)));
        Path data = Files.createDirectories(dir.resolve("kafka"));
        broker.setProperty("log.dirs", data.toString());
        String bootstrap = "127.0.0.1:" + ports.get(broker.getProperty("inter.broker.listener.name"));

        // Formatted as the image's launch script formats it: the cluster id, no users.
        new Formatter()
                .setNodeId(Integer.parseInt(broker.getProperty("node.id")))
                .setClusterId(kafkaEnvironment.get("CLUSTER_ID"))
                .setDirectories(Set.of(data.toString()))
                .setMetadataLogDirectory(data.toString())
                .setControllerListenerName(controller)
                .setReleaseVersion(MetadataVersion.latestProduction())
                .setPrintStream(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
                .run();
        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(broker, false), Time.SYSTEM);
        server.startup();
        try {
            runOn(compose, bootstrap);
        } finally {
            server.shutdown();
            server.awaitShutdown();
        }
    }

    private void runOn(JsonNode compose, String bootstrap) throws Exception {
        // kafka-users: admin's client settings, written by the compose file's own script, then a SCRAM user each.
        Map<String, String> users = environment(compose, "kafka-users");
        Path adminSettings = dir.resolve("admin.properties");
        ProcessBuilder adminScript = new ProcessBuilder(
                "sh",
                DeploymentChecks.ROOT.resolve("deploy/compose/kafka-admin.sh").toString(),
                adminSettings.toString());
        adminScript.environment().put("CHAINMERGE_KAFKA_ADMIN_PASSWORD", users.get("CHAINMERGE_KAFKA_ADMIN_PASSWORD"));
        assertThat(adminScript.inheritIO().start().waitFor()).isZero();
        Map<String, Object> admin = new LinkedHashMap<>();
        try (FileInputStream in = new FileInputStream(adminSettings.toFile())) {
            Properties read = new Properties();
            read.load(in);
            read.forEach((k, v) -> admin.put((String) k, v));
        }
        admin.put("bootstrap.servers", bootstrap);
        Map<String, String> passwords = new LinkedHashMap<>();
        for (String entry : users.get("CHAINMERGE_KAFKA_USERS").trim().split("\\s+")) {
            passwords.put(entry.substring(0, entry.indexOf('=')), entry.substring(entry.indexOf('=') + 1));
        }
        assertThat(passwords).containsOnlyKeys("chainmerge-coordinator", "worker-a", "worker-b");
        try (Admin client = Admin.create(admin)) {
            List<UserScramCredentialUpsertion> upserts = new ArrayList<>();
            passwords.forEach((user, password) -> upserts.add(new UserScramCredentialUpsertion(
                    user, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), password)));
            client.alterUserScramCredentials(new ArrayList<>(upserts)).all().get(60, TimeUnit.SECONDS);
        }

        // kafka-acls: each line of its script, run by this CLI against this broker.
        Path adminFile = dir.resolve("admin-with-bootstrap.properties");
        Properties withBootstrap = new Properties();
        admin.forEach((k, v) -> withBootstrap.setProperty(k, String.valueOf(v)));
        try (var out = Files.newOutputStream(adminFile)) {
            withBootstrap.store(out, null);
        }
        int granted = 0;
        for (String line : read("deploy/compose/make-kafka-acls.sh").lines().toList()) {
            if (!line.startsWith("chainmerge kafka acls ")) {
                continue;
            }
            List<String> args = new ArrayList<>();
            for (String word : line.substring("chainmerge ".length()).split("\\s+")) {
                args.add(
                        word.equals("kafka:9092")
                                ? bootstrap
                                : word.equals("/tmp/admin.properties") ? adminFile.toString() : word);
            }
            CliTest.Run run = CliTest.chainmerge(args.toArray());
            assertThat(run.exit()).as(line + "\n" + run.err()).isZero();
            granted++;
        }
        assertThat(granted).isEqualTo(3);

        // The daemons, each with the compose file's settings for it (addresses, folders and the principals file
        // moved here), against this broker.
        Map<String, String> here =
                Map.of("kafka.bootstrap.servers", bootstrap, "http.host", "127.0.0.1", "http.port", "0");
        Daemon coordinatorService = daemon(compose, "coordinator");
        Map<String, String> coordinatorFlags = new LinkedHashMap<>(here);
        coordinatorFlags.put("security.principals-file", TestPrincipals.file().toString());
        CoordinatorConfig coordinatorConfig = CoordinatorConfig.from(Config.resolve(
                CoordinatorConfig.DEF,
                coordinatorService.configFile(),
                coordinatorService.environment(),
                coordinatorFlags));
        assertThat(coordinatorConfig.kafka().admin("probe").get("sasl.mechanism"))
                .isEqualTo("SCRAM-SHA-512");
        Daemon workerService = daemon(compose, "worker-a");
        Map<String, String> workerFlags = new LinkedHashMap<>(here);
        workerFlags.put("volumes", Files.createDirectories(dir.resolve("vol1")).toString());
        workerFlags.put("in-use.quiet", "0s");
        WorkerConfig workerConfig = WorkerConfig.from(
                Config.resolve(WorkerConfig.DEF, workerService.configFile(), workerService.environment(), workerFlags));
        try (Coordinator coordinator = Coordinator.start(coordinatorConfig);
                Worker worker = Worker.start(workerConfig)) {
            coordinator.leads().toCompletableFuture().get(60, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(60))
                    .untilAsserted(() -> assertThat(status("http://127.0.0.1:" + worker.httpPort() + "/ready"))
                            .isEqualTo(200));
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(status("http://127.0.0.1:" + coordinator.httpPort() + "/ready"))
                            .isEqualTo(200));

            // Worker-a's identity may not forge campaign state nor publish jobs, even for its own pool.
            Topics topics = new Topics("chainmerge");
            Map<String, Object> asWorker =
                    new LinkedHashMap<>(workerConfig.kafka().producer("forger"));
            asWorker.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
            try (KafkaProducer<String, String> forger =
                    new KafkaProducer<>(asWorker, new StringSerializer(), new StringSerializer())) {
                for (String topic : List.of(topics.campaigns(), topics.jobs("pool-a"))) {
                    assertThatThrownBy(() -> forger.send(new ProducerRecord<>(topic, "k", "{}"))
                                    .get(30, TimeUnit.SECONDS))
                            .as(topic)
                            .isInstanceOfAny(ExecutionException.class, TopicAuthorizationException.class)
                            .satisfies(e -> assertThat(e.getCause() == null ? e : e.getCause())
                                    .isInstanceOf(TopicAuthorizationException.class));
                }
            }
        }
        // Nobody comes in without a user: an anonymous client is not even let in.
        Map<String, Object> anonymous =
                Map.of("bootstrap.servers", bootstrap, "request.timeout.ms", 5000, "default.api.timeout.ms", 10000);
        try (Admin nobody = Admin.create(anonymous)) {
            assertThatThrownBy(() -> nobody.listTopics().names().get(15, TimeUnit.SECONDS))
                    .isInstanceOfAny(ExecutionException.class, java.util.concurrent.TimeoutException.class);
        }
    }

    private static Map<String, String> environment(JsonNode compose, String service) {
        Map<String, String> environment = new LinkedHashMap<>();
        compose.path("services")
                .path(service)
                .path("environment")
                .fields()
                .forEachRemaining(e -> environment.put(
                        e.getKey(), DeploymentChecks.substitute(e.getValue().asText())));
        assertThat(environment).as("services." + service + ".environment").isNotEmpty();
        return environment;
    }

    private static Daemon daemon(JsonNode compose, String service) {
        return DeploymentChecks.composeDaemons(compose).stream()
                .filter(d -> d.where().endsWith("services." + service))
                .findFirst()
                .orElseThrow();
    }

    /** {@code NAME://HOST:PORT,...} with each listener on this machine's loopback, at its port here. */
    private static String moved(String listeners, Map<String, Integer> ports) {
        Matcher listener = Pattern.compile("([A-Z_]+)://[^:,]*:\\d+").matcher(listeners);
        StringBuilder moved = new StringBuilder();
        while (listener.find()) {
            listener.appendReplacement(moved, listener.group(1) + "://127.0.0.1:" + ports.get(listener.group(1)));
        }
        listener.appendTail(moved);
        return moved.toString();
    }

    private static int status(String url) throws Exception {
        return HTTP.send(
                        HttpRequest.newBuilder(URI.create(url))
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }
}
