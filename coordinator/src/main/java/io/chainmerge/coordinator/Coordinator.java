package io.chainmerge.coordinator;

import io.chainmerge.common.config.ConfigException;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.kafka.KafkaClients;
import io.chainmerge.common.kafka.PollLoops;
import io.chainmerge.common.message.MessageCodec;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running coordinator: creates the topics, rebuilds every campaign from {@code chainmerge.campaigns},
 * then follows results, progress, dead letters and backup events, drives the campaigns on a tick, and serves the HTTP API.
 */
public final class Coordinator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Coordinator.class);

    private final CoordinatorConfig config;
    private final Vertx vertx;
    private final ExecutorService campaignThread;
    private final KafkaProducer<String, byte[]> producer;
    private final CoordinatorMetrics metrics;
    private final Campaigns campaigns;
    private final ResultsConsumer results;
    private final InventoryView inventory;
    private final BackupIntake backupIntake;
    private final DeadLetters deadLetters;
    private final PollLoops loops = new PollLoops();
    private final Thread resultsThread;
    private final Thread inventoryThread;
    private final Thread backupThread;
    private final Thread deadLetterThread;
    private final HttpServer http;
    private final long tickTimer;
    private final TopicCreator topics;
    private final Admin admin;
    private final Principals principals;
    private final long reloadTimer;
    private boolean closed;

    /** What /ready and the start line say of a coordinator in insecure mode. */
    static final String INSECURE = "insecure: anyone who reaches this API may submit, cancel and approve merges";
    /** How often the principals file is looked at for a change. */
    static final Duration RELOAD_EVERY = Duration.ofSeconds(2);

    private Coordinator(CoordinatorConfig config) throws Exception {
        this.config = config;
        JsonCodec json = new JsonCodec();
        // Before anything is created: a coordinator that would answer anyone does not start by mistake.
        SecuritySettings security = config.security();
        this.principals = principals(security, json);
        MessageCodec codec = new MessageCodec(json);
        KafkaClients kafka = config.kafka();
        // Kept open: /ready asks it whether the broker answers and the topics still exist.
        this.admin = Admin.create(kafka.admin("chainmerge-coordinator-admin"));
        KafkaClients.ensureTopics(admin, config.topics().shared(), config.topicPartitions(), config.topicReplication());
        this.campaignThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "chainmerge-campaigns"));
        this.producer = new KafkaProducer<>(kafka.producer("chainmerge-" + config.coordinatorId()));
        this.metrics = new CoordinatorMetrics();
        CampaignStore store = new CampaignStore(producer, config.topics().campaigns(), codec, campaignThread);
        this.topics = new TopicCreator(kafka, config);
        JobPublisher publisher = new JobPublisher(
                producer, config.topics(), codec, config.transferSigning().signer(json), campaignThread);
        this.inventory = new InventoryView(
                new KafkaConsumer<>(kafka.consumer("chainmerge-" + config.coordinatorId() + "-inventory", null)),
                config.topics().inventory(),
                codec);
        Clock clock = Clock.systemUTC();
        BackupNotifier notifier = new BackupNotifier(
                producer, config.topics().notifications(), json, config.coordinatorId(), clock, campaignThread);
        this.campaigns = new Campaigns(
                campaignThread,
                store,
                publisher,
                topics,
                metrics,
                clock,
                inventory,
                notifier,
                config.backup(),
                config.stalls());
        campaigns
                .replay(CampaignStore.replay(
                        kafka.consumer("chainmerge-" + config.coordinatorId() + "-replay", null),
                        config.topics().campaigns(),
                        codec))
                .get(60, TimeUnit.SECONDS);

        this.results = new ResultsConsumer(
                new KafkaConsumer<>(
                        kafka.consumer("chainmerge-" + config.coordinatorId() + "-results", config.groupId())),
                config.topics(),
                codec,
                campaigns);
        BackupEvents backupEvents = new BackupEvents(json, inventory::poolOf);
        Predicate<String> configuredSource = source -> security.backupSources().contains(source)
                || principals.boundSources().contains(source)
                // A lab without any configured source takes every source, as before sources were configured.
                || (security.insecure()
                        && security.backupSources().isEmpty()
                        && principals.boundSources().isEmpty());
        // A group of its own: the results consumer's group subscribes to other topics.
        this.backupIntake = new BackupIntake(
                new KafkaConsumer<>(kafka.consumer(
                        "chainmerge-" + config.coordinatorId() + "-backup", config.groupId() + "-backup")),
                config.topics().backupEvents(),
                backupEvents,
                notifier,
                campaigns,
                configuredSource);
        this.deadLetters = new DeadLetters(
                new KafkaConsumer<>(kafka.consumer(
                        "chainmerge-" + config.coordinatorId() + "-dead-letter", config.groupId() + "-dead-letter")),
                config.topics().deadLetter(),
                codec,
                campaigns);
        loops.died()
                .thenAccept(reason -> LOG.error(
                        "coordinator {} is dead: {}",
                        config.coordinatorId(),
                        reason,
                        loops.cause().orElse(null)));
        this.resultsThread = loops.start("chainmerge-results", results.loop());
        this.inventoryThread = loops.start("chainmerge-inventory", inventory);
        this.backupThread = loops.start("chainmerge-backup-intake", backupIntake.loop());
        this.deadLetterThread = loops.start("chainmerge-dead-letters", deadLetters.loop());

        this.vertx = Vertx.vertx();
        String securityState = security.insecure() ? INSECURE : "secure";
        this.http = new CoordinatorHttp(
                        vertx,
                        json,
                        campaigns,
                        inventory,
                        metrics,
                        new Readiness(admin, config.topics(), loops, securityState),
                        backupEvents,
                        notifier,
                        new ApiSecurity(
                                principals,
                                security.insecure(),
                                new WriteRateLimit(security.writesPerMinute(), security.writeBurst(), clock)),
                        configuredSource,
                        new AuditLog(producer, config.topics().audit(), codec, campaignThread),
                        security.bodyLimit(),
                        clock)
                .listen(config.httpHost(), config.httpPort(), config.tls())
                .toCompletionStage()
                .toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        this.tickTimer = vertx.setPeriodic(config.tick().toMillis(), id -> {
            campaigns.tick();
            campaignThread.execute(() -> metrics.campaigns(campaigns.countsByState()));
        });
        if (principals.file().isPresent()) {
            // Rotation without a restart: a changed file is read again (docs/security.md).
            this.reloadTimer = vertx.setPeriodic(
                    RELOAD_EVERY.toMillis(), id -> vertx.executeBlocking(principals::reloadIfChanged, false));
        } else {
            this.reloadTimer = -1;
        }
        if (security.insecure()) {
            LOG.warn(
                    "coordinator {} up; HTTP on {}; SECURITY MODE INSECURE: {} (security.mode: insecure; see "
                            + "docs/security.md)",
                    config.coordinatorId(),
                    http.actualPort(),
                    INSECURE);
        } else {
            LOG.info(
                    "coordinator {} up; HTTP on {}; {} principals from {}",
                    config.coordinatorId(),
                    http.actualPort(),
                    principals.all().size(),
                    principals.file().orElseThrow());
            if (!config.tls().serves()) {
                LOG.warn("SECURITY: the API speaks plain HTTP (no tls.certificate and tls.key): bearer tokens cross "
                        + "the network in the clear; keep the port on a network only its callers reach "
                        + "(docs/security.md#tls)");
            }
        }
    }

    /**
     * The principals of the API. In secure mode a principals file that names at least one principal is
     * required; without one the coordinator does not start.
     */
    private static Principals principals(SecuritySettings security, JsonCodec json) {
        if (security.principalsFile() != null) {
            return Principals.read(security.principalsFile(), json);
        }
        if (!security.insecure()) {
            throw new ConfigException(
                    CoordinatorConfig.PRINCIPALS_FILE.name(),
                    "is required: security.mode is secure (the default), and without principals nobody could call "
                            + "the API. Make a token with chainmerge token new --name NAME --role operator "
                            + "--principals-file FILE, or set security.mode: insecure for a lab (docs/security.md)");
        }
        return Principals.none();
    }

    public static Coordinator start(CoordinatorConfig config) throws Exception {
        return new Coordinator(config);
    }

    /**
     * Completes, with the reason, when one of its consumer loops dies on its own: the coordinator is then
     * not ready, and {@code chainmerge coordinator} exits non-zero so that it is started again.
     */
    public CompletionStage<String> died() {
        return loops.died();
    }

    public int httpPort() {
        return http.actualPort();
    }

    public CoordinatorConfig config() {
        return config;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        loops.stopping();
        vertx.cancelTimer(tickTimer);
        vertx.cancelTimer(reloadTimer);
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("closing Vert.x: {}", e.toString());
        }
        backupIntake.stop();
        deadLetters.stop();
        results.stop();
        inventory.stop();
        join(backupThread);
        join(deadLetterThread);
        join(resultsThread);
        join(inventoryThread);
        campaignThread.shutdown();
        try {
            campaignThread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(10));
        topics.close();
        admin.close(Duration.ofSeconds(10));
        metrics.close();
    }

    private static void join(Thread thread) {
        try {
            thread.join(Duration.ofSeconds(20).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
