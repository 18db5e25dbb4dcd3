package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.common.audit.AuditRecord;
import io.chainmerge.common.campaign.CampaignAction;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.config.ConfigException;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.topic.Topics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API's guard against a real coordinator and a real broker: who may call what (401, 403, as before),
 * a backup system bound to its source, the body cap, the write rate limit, the audit trail on
 * {@code chainmerge.audit} and in the campaign's history, token rotation, and the two modes at start.
 */
class ApiSecurityIT {
    private static final JsonCodec JSON = new JsonCodec();
    private static final String PREFIX = "auth-it";
    private static final String SPEC =
            """
            name: guarded
            pools: [nobody-serves-this-pool]
            action: merge-to-root
            scanTimeout: 1h
            """;

    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static Coordinator coordinator;
    static Path principals;
    static final Map<String, String> TOKENS = new HashMap<>();

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** Every route that needs a caller, with a body where it takes one. */
    record Call(String method, String path, String body) {}

    static final List<Call> GUARDED = List.of(
            new Call("GET", "/v1/campaigns", null),
            new Call("GET", "/v1/campaigns/c-none", null),
            new Call("POST", "/v1/plan", SPEC),
            new Call("GET", "/v1/inventory", null),
            new Call("POST", "/v1/campaigns", SPEC),
            new Call("POST", "/v1/campaigns/c-none/cancel", ""),
            new Call("POST", "/v1/campaigns/c-none/pause", ""),
            new Call("POST", "/v1/campaigns/c-none/resume", ""),
            new Call("POST", "/v1/campaigns/c-none/approve", ""),
            new Call("POST", "/v1/backup-events", event("/backup/vbr-1")));

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        principals = dir.resolve("principals.yaml");
        for (var who : List.of(
                List.of("viewer", "viewer"),
                List.of("ops", "operator"),
                List.of("flooder", "operator"),
                List.of("root", "admin"),
                List.of("vbr", "backup-system"))) {
            String token = Tokens.newToken();
            TOKENS.put(who.get(0), token);
            Tokens.addPrincipal(
                    principals,
                    who.get(0),
                    List.of(Role.of(who.get(1))),
                    who.get(1).equals("backup-system") ? "/backup/vbr-1" : null,
                    Tokens.sha256Hex(token),
                    JSON);
        }
        coordinator = Coordinator.start(CoordinatorConfig.of(settings(Map.of(
                "security.principals-file",
                principals.toString(),
                "http.body-limit",
                "64KiB",
                "security.write-rate",
                1,
                "security.write-burst",
                10,
                "security.backup-sources",
                List.of("/backup/kafka-configured")))));
    }

    @AfterAll
    static void stop() {
        coordinator.close();
        kafka.close();
    }

    static Map<String, Object> settings(Map<String, Object> extra) {
        String name = "auth-it-" + UUID.randomUUID();
        Map<String, Object> settings = new HashMap<>(Map.of(
                "coordinator.id",
                name,
                // A group each: the coordinators one test starts beside the class's own each lead.
                "coordinator.group",
                name,
                "topics.prefix",
                PREFIX,
                "topics.replication",
                1,
                "http.host",
                "127.0.0.1",
                "http.port",
                0,
                "tick",
                "200ms",
                "kafka.bootstrap.servers",
                kafka.bootstrapServers()));
        settings.putAll(extra);
        return settings;
    }

    @Test
    void everyGuardedRouteWithoutATokenAnswers401AsAProblem() throws Exception {
        for (Call call : GUARDED) {
            for (String authorization : new String[] {null, "Bearer " + Tokens.newToken(), "Basic cm9vdDpyb290"}) {
                HttpResponse<String> response = send(call, authorization);
                assertThat(response.statusCode())
                        .as(call + " with " + authorization)
                        .isEqualTo(401);
                assertProblem(response, 401);
                assertThat(response.headers().firstValue("WWW-Authenticate"))
                        .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
            }
        }
    }

    @Test
    void probesAndMetricsStayAnonymous() throws Exception {
        for (String path : List.of("/health", "/ready", "/metrics")) {
            assertThat(send(new Call("GET", path, null), null).statusCode())
                    .as(path)
                    .isEqualTo(200);
        }
        JsonNode ready = JSON.mapper()
                .readTree(send(new Call("GET", "/ready", null), null).body());
        assertThat(ready.path("security").asText()).isEqualTo("secure");
    }

    @Test
    void theDashboardsFilesNeedNoTokenAndCarryAStrictContentSecurityPolicy() throws Exception {
        for (String path : List.of("/ui/", "/ui/index.html", "/ui/app.js", "/ui/api.js", "/ui/app.css")) {
            HttpResponse<String> file = send(new Call("GET", path, null), null);
            assertThat(file.statusCode()).as(path).isEqualTo(200);
            assertThat(file.headers().firstValue("Content-Security-Policy"))
                    .as(path)
                    .hasValueSatisfying(policy -> assertThat(policy).startsWith("default-src 'self'"));
            assertThat(file.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        }
        assertThat(send(new Call("GET", "/ui/app.js", null), null).headers().firstValue("content-type"))
                .hasValueSatisfying(type -> assertThat(type).contains("javascript"));
        // The files hold no data: what the page shows comes from calls that need a token, as before.
        assertThat(send(new Call("GET", "/v1/campaigns", null), null).statusCode())
                .isEqualTo(401);
        assertThat(send(new Call("GET", "/ui/../v1/campaigns", null), null).statusCode())
                .isNotEqualTo(200);
    }

    @Test
    void meNamesTheCallerItsRolesAndWhatTheyAllow() throws Exception {
        Call me = new Call("GET", "/v1/me", null);
        assertThat(send(me, null).statusCode()).isEqualTo(401);
        JsonNode viewer = JSON.mapper().readTree(send(me, bearer("viewer")).body());
        assertThat(viewer.path("name").asText()).isEqualTo("viewer");
        assertThat(viewer.path("roles").toString()).isEqualTo("[\"viewer\"]");
        assertThat(viewer.path("permissions").toString()).isEqualTo("[\"read\"]");
        JsonNode ops = JSON.mapper().readTree(send(me, bearer("ops")).body());
        assertThat(ops.path("permissions").toString()).isEqualTo("[\"operate\",\"read\"]");
        HttpResponse<String> backup = send(me, bearer("vbr"));
        assertThat(backup.statusCode()).isEqualTo(200);
        assertThat(JSON.mapper().readTree(backup.body()).path("permissions").toString())
                .isEqualTo("[\"post-backup-events\"]");
    }

    @Test
    void aRoleThatDoesNotAllowTheCallAnswers403AsAProblem() throws Exception {
        List<Call> writes = GUARDED.subList(4, 9);
        for (Call call : writes) {
            assertForbidden(call, "viewer");
            assertForbidden(call, "vbr");
        }
        for (Call call : GUARDED.subList(0, 4)) {
            assertForbidden(call, "vbr");
        }
        assertForbidden(GUARDED.get(9), "viewer");
        assertForbidden(GUARDED.get(9), "ops");
    }

    @Test
    void theRightRoleGetsTheAnswerItGotBefore() throws Exception {
        assertThat(send(GUARDED.get(0), bearer("viewer")).statusCode()).isEqualTo(200);
        assertThat(send(GUARDED.get(3), bearer("viewer")).statusCode()).isEqualTo(200);
        assertThat(send(GUARDED.get(2), bearer("viewer")).statusCode()).isEqualTo(200);
        HttpResponse<String> missing = send(GUARDED.get(1), bearer("viewer"));
        assertThat(missing.statusCode()).isEqualTo(404);
        assertProblem(missing, 404);
        assertThat(JSON.mapper().readTree(missing.body()).path("detail").asText())
                .isEqualTo("no campaign c-none");
        for (String who : List.of("ops", "root")) {
            HttpResponse<String> submitted = send(GUARDED.get(4), bearer(who));
            assertThat(submitted.statusCode()).as(who).isEqualTo(201);
            assertThat(JSON.mapper()
                            .readTree(submitted.body())
                            .path("campaignId")
                            .asText())
                    .startsWith("c-");
        }
        HttpResponse<String> conflict = send(new Call("POST", "/v1/campaigns/c-none/approve", ""), bearer("root"));
        assertThat(conflict.statusCode()).isEqualTo(404);
        HttpResponse<String> badSpec = send(new Call("POST", "/v1/campaigns", "name: [unclosed"), bearer("ops"));
        assertThat(badSpec.statusCode()).isEqualTo(400);
        assertProblem(badSpec, 400);
    }

    @Test
    void aBackupSystemPostsForItsOwnSourceOnly() throws Exception {
        Call own = new Call("POST", "/v1/backup-events", event("/backup/vbr-1"));
        HttpResponse<String> accepted = send(own, bearer("vbr"));
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);

        HttpResponse<String> other = send(new Call("POST", "/v1/backup-events", event("/backup/other")), bearer("vbr"));
        assertThat(other.statusCode()).isEqualTo(403);
        assertProblem(other, 403);
        assertThat(JSON.mapper().readTree(other.body()).path("detail").asText())
                .contains("/backup/vbr-1")
                .contains("/backup/other");

        // An admin may post for any source, but a source nobody configured gets no standing campaign.
        HttpResponse<String> unknown =
                send(new Call("POST", "/v1/backup-events", event("/backup/nobody")), bearer("root"));
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertProblem(unknown, 400);
        assertThat(JSON.mapper().readTree(unknown.body()).path("error").asText())
                .isEqualTo("unknown-source");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(campaignIds())
                .contains(BackupEvents.campaignId("/backup/vbr-1"))
                .doesNotContain(BackupEvents.campaignId("/backup/nobody"), BackupEvents.campaignId("/backup/other")));
    }

    @Test
    void onKafkaTooOnlyConfiguredSourcesGetAStandingCampaign() throws Exception {
        Topics topics = new Topics(PREFIX);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
                KafkaConsumer<String, byte[]> notifications = new KafkaConsumer<>(Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        kafka.bootstrapServers(),
                        ConsumerConfig.GROUP_ID_CONFIG,
                        "notifications-" + UUID.randomUUID(),
                        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                        "earliest",
                        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                        StringDeserializer.class,
                        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                        ByteArrayDeserializer.class))) {
            for (String source : List.of("/backup/kafka-nobody", "/backup/kafka-configured")) {
                ProducerRecord<String, byte[]> record = new ProducerRecord<>(
                        topics.backupEvents(), "vm01", event(source).getBytes(StandardCharsets.UTF_8));
                record.headers().add("content-type", "application/cloudevents+json".getBytes(StandardCharsets.UTF_8));
                producer.send(record).get();
            }
            notifications.subscribe(List.of(topics.notifications()));
            List<String> seen = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                notifications
                        .poll(Duration.ofMillis(200))
                        .forEach(r -> seen.add(new String(r.value(), StandardCharsets.UTF_8)));
                assertThat(seen)
                        .anySatisfy(
                                n -> assertThat(n).contains("unknown-source").contains("/backup/kafka-nobody"));
            });
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(campaignIds())
                .contains(BackupEvents.campaignId("/backup/kafka-configured"))
                .doesNotContain(BackupEvents.campaignId("/backup/kafka-nobody")));
    }

    @Test
    void anOversizedBodyAnswers413AndTheCoordinatorStaysReady() throws Exception {
        String big = "name: big\n# " + "x".repeat(100 * 1024) + "\n";
        HttpResponse<String> response = send(new Call("POST", "/v1/plan", big), bearer("viewer"));
        assertThat(response.statusCode()).isEqualTo(413);
        assertProblem(response, 413);
        assertThat(send(new Call("GET", "/ready", null), null).statusCode()).isEqualTo(200);
        assertThat(send(GUARDED.get(0), bearer("viewer")).statusCode()).isEqualTo(200);
    }

    @Test
    void tooManyWritesOfOnePrincipalAnswer429WithRetryAfter() throws Exception {
        List<Integer> statuses = new ArrayList<>();
        HttpResponse<String> last = null;
        for (int i = 0; i < 12; i++) {
            last = send(new Call("POST", "/v1/campaigns/c-none/pause", ""), bearer("flooder"));
            statuses.add(last.statusCode());
        }
        assertThat(statuses.subList(0, 10)).containsOnly(404);
        assertThat(statuses.subList(10, 12)).containsOnly(429);
        assertProblem(last, 429);
        assertThat(last.headers().firstValue("Retry-After").map(Integer::parseInt))
                .hasValueSatisfying(seconds -> assertThat(seconds).isBetween(1, 60));
        // Another principal is not held back by the flooder.
        assertThat(send(GUARDED.get(4), bearer("ops")).statusCode()).isEqualTo(201);
    }

    @Test
    void aViewerMayFollowACampaignLiveAndABackupSystemMayNot() throws Exception {
        String id = JSON.mapper()
                .readTree(send(GUARDED.get(4), bearer("ops")).body())
                .path("campaignId")
                .asText();
        Call events = new Call("GET", "/v1/campaigns/" + id + "/events", null);
        assertThat(send(events, null).statusCode()).isEqualTo(401);
        assertForbidden(events, "vbr");
        HttpResponse<java.io.InputStream> live = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + coordinator.httpPort() + events.path()))
                        .header("Authorization", bearer("viewer"))
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        try (java.io.InputStream in = live.body()) {
            assertThat(live.statusCode()).isEqualTo(200);
            assertThat(new String(in.readNBytes(200), StandardCharsets.UTF_8)).contains("event: snapshot");
        }
    }

    @Test
    void whoSubmittedAndPausedIsInTheReportAndOnTheAuditTopic() throws Exception {
        String id = JSON.mapper()
                .readTree(send(GUARDED.get(4), bearer("ops")).body())
                .path("campaignId")
                .asText();
        assertThat(send(new Call("POST", "/v1/campaigns/" + id + "/pause", ""), bearer("root"))
                        .statusCode())
                .isEqualTo(200);
        assertThat(send(new Call("POST", "/v1/campaigns/" + id + "/cancel", ""), bearer("viewer"))
                        .statusCode())
                .isEqualTo(403);

        CampaignReport report = JSON.mapper()
                .readValue(
                        send(new Call("GET", "/v1/campaigns/" + id, null), bearer("viewer"))
                                .body(),
                        CampaignReport.class);
        assertThat(report.submittedBy()).isEqualTo("ops from 127.0.0.1");
        assertThat(report.paused()).isTrue();
        assertThat(report.actions())
                .extracting(CampaignAction::action, CampaignAction::principal, CampaignAction::address)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("submit", "ops", "127.0.0.1"),
                        org.assertj.core.groups.Tuple.tuple("pause", "root", "127.0.0.1"));

        MessageCodec codec = new MessageCodec(JSON);
        List<AuditRecord> audit = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG,
                "audit-reader-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class))) {
            consumer.subscribe(List.of(new Topics(PREFIX).audit()));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    audit.add(codec.read(record.value(), AuditRecord.class));
                }
                assertThat(audit.stream().filter(a -> id.equals(a.campaignId())))
                        .extracting(AuditRecord::principal, AuditRecord::action, AuditRecord::status)
                        .contains(
                                org.assertj.core.groups.Tuple.tuple("ops", "submit", 201),
                                org.assertj.core.groups.Tuple.tuple("root", "pause", 200),
                                org.assertj.core.groups.Tuple.tuple("viewer", "cancel", 403));
            });
        }
        AuditRecord submit = audit.stream()
                .filter(a -> id.equals(a.campaignId()) && a.action().equals("submit"))
                .findFirst()
                .orElseThrow();
        assertThat(submit.address()).isEqualTo("127.0.0.1");
        assertThat(submit.roles()).isEqualTo("operator");
        assertThat(submit.request()).isEqualTo("POST /v1/campaigns");
        assertThat(submit.at()).isNotNull();
    }

    @Test
    void aTokenAddedToThePrincipalsFileWorksAndOneRemovedStopsWithoutARestart() throws Exception {
        String token = Tokens.newToken();
        Path rotated = dir.resolve("rotated.yaml");
        Files.copy(principals, rotated);
        Tokens.addPrincipal(rotated, "ops-2", List.of(Role.VIEWER), null, Tokens.sha256Hex(token), JSON);
        try (Coordinator second = Coordinator.start(
                CoordinatorConfig.of(settings(Map.of("security.principals-file", rotated.toString()))))) {
            String url = "http://127.0.0.1:" + second.httpPort() + "/v1/campaigns";
            assertThat(get(url, token)).isEqualTo(200);
            String withoutOps2 = Files.readString(rotated).replaceAll("(?s)- name: \"?ops-2\"?.*", "");
            Files.writeString(rotated, withoutOps2 + "\n");
            await().atMost(Duration.ofSeconds(15))
                    .untilAsserted(() -> assertThat(get(url, token)).isEqualTo(401));
            // A broken file is refused and the principals read before stay.
            Files.writeString(rotated, "principals: [{name: x}]\n");
            await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                            get(url, TOKENS.get("viewer")))
                    .isEqualTo(200));
        }
    }

    @Test
    void secureModeWithoutPrincipalsDoesNotStartAndSaysWhatIsMissing() {
        assertThatThrownBy(() -> Coordinator.start(CoordinatorConfig.of(settings(Map.of()))))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("security.principals-file is required")
                .hasMessageContaining("security.mode: insecure");
        Path empty = dir.resolve("empty.yaml");
        assertThatThrownBy(() -> {
                    Files.writeString(empty, "principals: []\n");
                    Coordinator.start(
                            CoordinatorConfig.of(settings(Map.of("security.principals-file", empty.toString()))));
                })
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("lists no principals");
    }

    @Test
    void aSecureCoordinatorWhosePlainHttpApiListensOnANetworkDoesNotStartAndNamesTheSettings() {
        assertThatThrownBy(() -> CoordinatorConfig.of(
                        settings(Map.of("security.principals-file", principals.toString(), "http.host", "0.0.0.0"))))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("tls.certificate and tls.key are required")
                .hasMessageContaining("listens on 0.0.0.0 (http.host)")
                .hasMessageContaining("http.host: 127.0.0.1")
                .hasMessageContaining("http.plaintext: allow")
                .extracting(e -> ((ConfigException) e).key())
                .isEqualTo("tls.certificate");
        assertThatThrownBy(() -> CoordinatorConfig.of(settings(Map.of(
                        "security.principals-file",
                        principals.toString(),
                        "http.host",
                        "0.0.0.0",
                        "http.plaintext",
                        "yes"))))
                .isInstanceOf(ConfigException.class)
                .hasMessage("http.plaintext is refuse or allow, not \"yes\"");
    }

    @Test
    void aPlainHttpApiOnLoopbackOnlyStartsAndSaysTokensNeverCrossANetwork() throws Exception {
        // logback-test.xml logs WARN and above; this line is INFO.
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(Coordinator.class);
        logger.setLevel(ch.qos.logback.classic.Level.INFO);
        AtomicReference<Coordinator> started = new AtomicReference<>();
        String log;
        try {
            log = stderrOf(() -> started.set(Coordinator.start(CoordinatorConfig.of(
                    settings(Map.of("security.principals-file", principals.toString(), "http.host", "127.0.0.1"))))));
        } finally {
            logger.setLevel(null);
        }
        try (Coordinator loopback = started.get()) {
            assertThat(get("http://127.0.0.1:" + loopback.httpPort() + "/v1/campaigns", TOKENS.get("viewer")))
                    .isEqualTo(200);
        }
        assertThat(log)
                .contains(
                        "plain HTTP on 127.0.0.1 (http.host), a loopback address: bearer tokens never cross a network")
                .doesNotContain("SECURITY: the API speaks plain HTTP");
    }

    @Test
    void aPlainHttpApiOnANetworkStartsWhenTheOperatorAllowsItAndWarnsThatTokensCrossInTheClear() throws Exception {
        AtomicReference<Coordinator> started = new AtomicReference<>();
        String log = stderrOf(() -> started.set(Coordinator.start(CoordinatorConfig.of(settings(Map.of(
                "security.principals-file",
                principals.toString(),
                "http.host",
                "0.0.0.0",
                "http.plaintext",
                "allow"))))));
        try (Coordinator allowed = started.get()) {
            assertThat(log)
                    .contains("WARN")
                    .contains("SECURITY: the API speaks plain HTTP on 0.0.0.0 because http.plaintext is allow: "
                            + "bearer tokens cross the network in the clear");
            String url = "http://127.0.0.1:" + allowed.httpPort() + "/v1/campaigns";
            assertThat(get(url, TOKENS.get("viewer"))).isEqualTo(200);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
                            .statusCode())
                    .isEqualTo(401);
        }
    }

    interface Starting {
        void run() throws Exception;
    }

    /** What the coordinator logged (to standard error, logback-test.xml) while {@code starting} ran. */
    private static String stderrOf(Starting starting) throws Exception {
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            starting.run();
        } finally {
            System.setErr(stderr);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void insecureModeServesAnonymousCallersAndSaysSoLoudly() throws Exception {
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        Coordinator insecure;
        try {
            insecure = Coordinator.start(CoordinatorConfig.of(settings(Map.of("security.mode", "insecure"))));
        } finally {
            System.setErr(stderr);
        }
        try (insecure) {
            assertThat(captured.toString(StandardCharsets.UTF_8))
                    .contains("WARN")
                    .contains("SECURITY MODE INSECURE");
            String base = "http://127.0.0.1:" + insecure.httpPort();
            JsonNode ready = JSON.mapper()
                    .readTree(http.send(
                                    HttpRequest.newBuilder(URI.create(base + "/ready"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .body());
            assertThat(ready.path("security").asText()).startsWith("insecure");
            HttpResponse<String> submitted = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/v1/campaigns"))
                            .POST(HttpRequest.BodyPublishers.ofString(SPEC))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(submitted.statusCode()).isEqualTo(201);
        }
    }

    private int get(String url, String token) throws Exception {
        return http.send(
                        HttpRequest.newBuilder(URI.create(url))
                                .header("Authorization", "Bearer " + token)
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .statusCode();
    }

    private void assertForbidden(Call call, String who) throws Exception {
        HttpResponse<String> response = send(call, bearer(who));
        assertThat(response.statusCode()).as(call + " by " + who).isEqualTo(403);
        assertProblem(response, 403);
        assertThat(JSON.mapper().readTree(response.body()).path("detail").asText())
                .contains(who);
    }

    private static void assertProblem(HttpResponse<String> response, int status) throws Exception {
        assertThat(response.headers().firstValue("content-type")).hasValue("application/problem+json");
        JsonNode problem = JSON.mapper().readTree(response.body());
        assertThat(problem.path("type").asText()).startsWith("urn:chainmerge:problem:");
        assertThat(problem.path("title").asText()).isNotBlank();
        assertThat(problem.path("status").asInt()).isEqualTo(status);
        assertThat(problem.path("detail").asText()).isNotBlank();
        assertThat(response.body()).doesNotContainPattern("[a-z]+\\.[a-z]+\\.[A-Za-z.]*(Exception|Error)\\b");
    }

    private List<String> campaignIds() throws Exception {
        JsonNode page = JSON.mapper()
                .readTree(send(new Call("GET", "/v1/campaigns?limit=1000", null), bearer("root"))
                        .body());
        List<String> ids = new ArrayList<>();
        page.path("items").forEach(c -> ids.add(c.path("campaignId").asText()));
        return ids;
    }

    private static String bearer(String who) {
        return "Bearer " + TOKENS.get(who);
    }

    private HttpResponse<String> send(Call call, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + coordinator.httpPort() + call.path()))
                .timeout(Duration.ofSeconds(30));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        if (call.method().equals("GET")) {
            request.GET();
        } else {
            request.POST(HttpRequest.BodyPublishers.ofString(call.body() == null ? "" : call.body()));
            request.header(
                    "content-type",
                    call.path().equals("/v1/backup-events") ? "application/cloudevents+json" : "application/yaml");
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String event(String source) {
        return """
                {"specversion": "1.0", "id": "%s", "source": "%s",
                 "type": "io.chainmerge.backup.checkpoint.released", "datacontenttype": "application/json",
                 "data": {"pool": "backup-pool", "disk": "/srv/vms/vm01_1.avhdx"}}
                """
                .formatted(UUID.randomUUID(), source);
    }
}
