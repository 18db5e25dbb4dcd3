package io.chainmerge.coordinator;

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
    private boolean closed;

    private Coordinator(CoordinatorConfig config) throws Exception {
        this.config = config;
        JsonCodec json = new JsonCodec();
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
        JobPublisher publisher = new JobPublisher(producer, config.topics(), codec, campaignThread);
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
        // A group of its own: the results consumer's group subscribes to other topics.
        this.backupIntake = new BackupIntake(
                new KafkaConsumer<>(kafka.consumer(
                        "chainmerge-" + config.coordinatorId() + "-backup", config.groupId() + "-backup")),
                config.topics().backupEvents(),
                backupEvents,
                notifier,
                campaigns);
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
        this.http = new CoordinatorHttp(
                        vertx,
                        json,
                        campaigns,
                        inventory,
                        metrics,
                        new Readiness(admin, config.topics(), loops),
                        backupEvents,
                        notifier)
                .listen(config.httpHost(), config.httpPort())
                .toCompletionStage()
                .toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        this.tickTimer = vertx.setPeriodic(config.tick().toMillis(), id -> {
            campaigns.tick();
            campaignThread.execute(() -> metrics.campaigns(campaigns.countsByState()));
        });
        LOG.info("coordinator {} up; HTTP on {}", config.coordinatorId(), http.actualPort());
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
