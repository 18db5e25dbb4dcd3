package io.chainmerge.coordinator;

import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.kafka.KafkaClients;
import io.chainmerge.common.kafka.PollLoops;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.topic.Topics.TopicSpec;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running coordinator replica. Every replica of a coordinator group creates the topics, follows the
 * campaigns' event log ({@link StateFollower}), serves the HTTP API and takes part in the election
 * ({@link LeaderElection}). The one elected fences every earlier leader ({@link TransactionalLog}), reads the
 * log to its end, then follows results, progress, dead letters and backup events and drives the campaigns on
 * a tick; the others stand by, answer reads, and answer writes with 503 naming the leader.
 */
public final class Coordinator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Coordinator.class);

    private final CoordinatorConfig config;
    private final JsonCodec json = new JsonCodec();
    private final Clock clock = Clock.systemUTC();
    private final Vertx vertx;
    private final ExecutorService campaignThread;
    private final ExecutorService takeoverThread;
    private final TransactionalLog log;
    private final Leadership leadership;
    private final CoordinatorMetrics metrics;
    private final Campaigns campaigns;
    private final StateFollower follower;
    private final LeaderElection election;
    private final InventoryView inventory;
    private final KafkaClients kafka;
    private final MessageCodec codec;
    private final BackupEvents backupEvents;
    private final BackupNotifier notifier;
    private final Predicate<String> configuredSource;
    /** The leader's loops, made at the takeover: a standby reads no results, backup events or dead letters. */
    private ResultsConsumer results;

    private BackupIntake backupIntake;
    private DeadLetters deadLetters;
    private final PollLoops loops = new PollLoops();
    private final java.util.concurrent.CompletableFuture<Void> leads = new java.util.concurrent.CompletableFuture<>();
    private final Thread followerThread;
    private final Thread inventoryThread;
    private final Thread electionThread;
    private Thread resultsThread;
    private Thread backupThread;
    private Thread deadLetterThread;
    private final HttpServer http;
    private final CoordinatorHttp api;
    private long tickTimer = -1;
    private long lagTimer = -1;
    private final PoolLag poolLag;
    /** How often the leader reads its pools' lag from the broker: a few admin requests per pool. */
    static final Duration LAG_EVERY = Duration.ofSeconds(15);

    private final TopicCreator topics;
    private final Admin admin;
    private final Principals principals;
    private final OidcTokens oidc;
    private final long reloadTimer;
    private boolean closed;

    /** What /ready and the start line say of a coordinator in insecure mode. */
    static final String INSECURE = "insecure: anyone who reaches this API may submit, cancel and approve merges";
    /** How often the principals file is looked at for a change. */
    static final Duration RELOAD_EVERY = Duration.ofSeconds(2);
    /**
     * How long a transaction a leader left open (it stopped mid-commit, and no successor aborted it yet)
     * holds back {@code read_committed} readers: workers' jobs among them. Transactions last milliseconds.
     */
    static final Duration TRANSACTION_TIMEOUT = Duration.ofSeconds(15);

    private Coordinator(CoordinatorConfig config) throws Exception {
        this.config = config;
        // Before anything is created: a coordinator that would answer anyone does not start by mistake.
        SecuritySettings security = config.security();
        this.principals = principals(security, json);
        this.codec = new MessageCodec(json);
        this.kafka = config.kafka();
        String client = "chainmerge-" + config.coordinatorId();
        // Kept open: /ready asks it whether the broker answers and the topics still exist.
        this.admin = Admin.create(kafka.admin(client + "-admin"));
        KafkaClients.ensureTopics(admin, config.topics().shared(), config.topicPartitions(), config.topicReplication());
        // One partition, whatever topics.partitions says: its holder leads.
        KafkaClients.ensureTopics(
                admin, List.of(new TopicSpec(config.topics().leader(), true, null)), 1, config.topicReplication());
        this.campaignThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "chainmerge-campaigns"));
        this.takeoverThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "chainmerge-takeover"));
        this.leadership = new Leadership(config.coordinatorId());
        this.metrics = new CoordinatorMetrics();
        metrics.leadership(leadership);
        this.poolLag = new PoolLag(admin, config.topics());
        this.log = new TransactionalLog(
                settings ->
                        metrics.kafka(new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(settings)),
                kafka.transactionalProducer(client, config.transactionalId(), TRANSACTION_TIMEOUT),
                config.coordinatorId(),
                campaignThread,
                fenced -> {
                    leadership.deposed();
                    loops.fail(
                            "fenced: another replica of coordinator group " + config.group()
                                    + " leads now; this one writes nothing more (" + fenced + ")",
                            fenced);
                });
        CampaignStore store = new CampaignStore(log, config.topics().campaigns(), codec);
        this.topics = new TopicCreator(kafka, config);
        JobPublisher publisher = new JobPublisher(
                log, config.topics(), codec, config.transferSigning().signer(json));
        this.inventory = new InventoryView(
                metrics.kafka(new KafkaConsumer<>(kafka.consumer(client + "-inventory", null))),
                config.topics().inventory(),
                codec);
        this.notifier = new BackupNotifier(log, config.topics().notifications(), json, config.group(), clock);
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
                config.stalls(),
                config.retention(),
                config.volumeBudget());
        this.follower = new StateFollower(
                metrics.kafka(new KafkaConsumer<>(kafka.consumer(client + "-state", null))),
                config.topics(),
                codec,
                json,
                campaigns::follow,
                leadership);
        this.backupEvents = new BackupEvents(json, inventory::poolOf);
        this.configuredSource = source -> security.backupSources().contains(source)
                || principals.boundSources().contains(source)
                // A lab without any configured source takes every source, as before sources were configured.
                || (security.insecure()
                        && security.backupSources().isEmpty()
                        && principals.boundSources().isEmpty());
        this.election = new LeaderElection(
                metrics.kafka(new KafkaConsumer<>(electionSettings(kafka, config, client))),
                config.topics().leader());
        loops.died().thenAccept(reason -> {
            leadership.deposed();
            // Dead, it writes nothing more, even before a successor fences it (the process exits, but not at once).
            log.stopWriting("coordinator " + config.coordinatorId() + " is dead: " + reason);
            LOG.error(
                    "coordinator {} is dead: {}",
                    config.coordinatorId(),
                    reason,
                    loops.cause().orElse(null));
        });
        this.followerThread = loops.startFinite("chainmerge-follower", follower);
        this.inventoryThread = loops.start("chainmerge-inventory", inventory);

        this.vertx = Vertx.vertx();
        this.oidc = config.oidc() == null ? null : new OidcTokens(vertx, config.oidc(), clock);
        String securityState = security.insecure() ? INSECURE : "secure";
        this.api = new CoordinatorHttp(
                vertx,
                json,
                campaigns,
                inventory,
                metrics,
                new Readiness(admin, config.topics(), loops, securityState, leadership),
                backupEvents,
                notifier,
                new ApiSecurity(
                        principals,
                        security.insecure(),
                        new WriteRateLimit(security.writesPerMinute(), security.writeBurst(), clock),
                        oidc),
                configuredSource,
                new AuditLog(log, config.topics().audit(), codec),
                security.bodyLimit(),
                clock,
                leadership,
                config.events());
        this.http = api.listen(config.httpHost(), config.httpPort(), config.tls())
                .toCompletionStage()
                .toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        if (principals.file().isPresent()) {
            // Rotation without a restart: a changed file is read again (docs/security.md).
            this.reloadTimer = vertx.setPeriodic(
                    RELOAD_EVERY.toMillis(), id -> vertx.executeBlocking(principals::reloadIfChanged, false));
        } else {
            this.reloadTimer = -1;
        }

        this.electionThread = loops.start("chainmerge-election", election);
        if (electedOrStandingBy(config.leaderSessionTimeout().multipliedBy(3).plusSeconds(30))) {
            takeOver();
        } else {
            leadership.standingBy();
            election.elected().thenRunAsync(this::takeOverOrDie, takeoverThread);
            LOG.info(
                    "coordinator {} of group {} stands by: {} leads; reads are answered here, writes there",
                    config.coordinatorId(),
                    config.group(),
                    leadership.leader().map(Leadership.Leader::coordinator).orElse("another replica"));
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
            switch (config.transport()) {
                case PLAIN_LOOPBACK ->
                    LOG.info(
                            "the API speaks plain HTTP on {} ({}), a loopback address: bearer tokens never cross a "
                                    + "network, only callers on this host reach it (docs/security.md#secure-by-default)",
                            config.httpHost(),
                            CoordinatorConfig.HTTP_HOST.name());
                case PLAIN_ALLOWED ->
                    LOG.warn(
                            "SECURITY: the API speaks plain HTTP on {} because {} is allow: bearer tokens cross the "
                                    + "network in the clear, and whoever reads one may act as its principal; give it "
                                    + "tls.certificate and tls.key (docs/security.md#secure-by-default)",
                            config.httpHost(),
                            CoordinatorConfig.HTTP_PLAINTEXT.name());
                case TLS, PLAIN_INSECURE_MODE -> {}
            }
        }
    }

    /**
     * Waits until this replica is elected, or another live replica is seen holding the lead (an empty
     * assignment alone says nothing: the group may have assigned before the new topic's metadata arrived).
     * A lone replica is elected within a rebalance; one that joins a live leader sees it as fast.
     */
    private boolean electedOrStandingBy(Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        TopicPartition leaderPartition = new TopicPartition(config.topics().leader(), 0);
        String self = "chainmerge-" + config.coordinatorId() + "-election";
        while (System.nanoTime() < deadline) {
            if (election.elected().isDone()) {
                return true;
            }
            ConsumerGroupDescription group;
            try {
                group = admin.describeConsumerGroups(List.of(config.leaderGroupId()))
                        .describedGroups()
                        .get(config.leaderGroupId())
                        .get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof GroupIdNotFoundException)) {
                    throw e;
                }
                // Nobody has joined yet, this replica's election consumer included (a cluster of several
                // brokers can take a moment to make the group): no one leads, look again.
                Thread.sleep(100);
                continue;
            }
            boolean anotherLeads = group.members().stream()
                    .anyMatch(member -> !member.clientId().equals(self)
                            && member.assignment().topicPartitions().contains(leaderPartition));
            if (anotherLeads) {
                return false;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("no coordinator of group " + config.group() + " was elected in " + limit
                + "; is the broker answering?");
    }

    /**
     * The election's consumer: its group is the coordinator group's; the cooperative sticky assignor keeps the
     * one partition with its holder when a standby joins, and the session timeout is how long a silent leader
     * keeps the lead.
     */
    private static Map<String, Object> electionSettings(KafkaClients kafka, CoordinatorConfig config, String client) {
        Map<String, Object> settings = kafka.consumer(client + "-election", config.leaderGroupId());
        settings.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        return session(settings, config.leaderSessionTimeout());
    }

    /**
     * A leader's group consumer (results, backup events, dead letters) leaves its group as fast as the lead:
     * a successor would otherwise wait out the dead leader's membership (45 s by Kafka's default) before it
     * reads a single result.
     */
    private Map<String, Object> leaderLoop(Map<String, Object> settings) {
        return session(settings, config.leaderSessionTimeout());
    }

    private static Map<String, Object> session(Map<String, Object> settings, Duration timeout) {
        settings.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        settings.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) Math.max(100, timeout.toMillis() / 4));
        return settings;
    }

    /** What only the leader does: read results, backup events and dead letters, and tick. */
    private void startLeaderLoops() {
        String client = "chainmerge-" + config.coordinatorId();
        this.results = new ResultsConsumer(
                metrics.kafka(new KafkaConsumer<>(leaderLoop(kafka.consumer(client + "-results", config.groupId())))),
                config.topics(),
                codec,
                campaigns);
        // A group of its own: the results consumer's group subscribes to other topics.
        this.backupIntake = new BackupIntake(
                metrics.kafka(new KafkaConsumer<>(leaderLoop(
                        kafka.consumer(client + "-backup", config.kafkaRole().backupEventsGroup())))),
                config.topics().backupEvents(),
                backupEvents,
                notifier,
                campaigns,
                configuredSource);
        this.deadLetters = new DeadLetters(
                metrics.kafka(new KafkaConsumer<>(leaderLoop(kafka.consumer(
                        client + "-dead-letter", config.kafkaRole().deadLetterGroup())))),
                config.topics().deadLetter(),
                codec,
                campaigns);
        this.resultsThread = loops.start("chainmerge-results", results.loop());
        this.backupThread = loops.start("chainmerge-backup-intake", backupIntake.loop());
        this.deadLetterThread = loops.start("chainmerge-dead-letters", deadLetters.loop());
        this.tickTimer = vertx.setPeriodic(config.tick().toMillis(), id -> {
            campaigns.tick();
            campaignThread.execute(() -> metrics.campaigns(campaigns.countsByState()));
        });
        readPoolLag();
        this.lagTimer = vertx.setPeriodic(LAG_EVERY.toMillis(), id -> readPoolLag());
    }

    private void readPoolLag() {
        vertx.executeBlocking(poolLag::read, false)
                .onSuccess(metrics::poolLag)
                .onFailure(e -> LOG.warn("reading the pools' lag failed: {}", e.toString()));
    }

    private void takeOverOrDie() {
        try {
            takeOver();
        } catch (Exception e) {
            loops.fail("taking the lead failed: " + e, e);
        }
    }

    /**
     * Becomes the leader: fences every earlier leader, reads the event log to its end, drives the campaigns
     * from there, and announces itself.
     */
    private void takeOver() throws Exception {
        synchronized (this) {
            if (closed) {
                return;
            }
        }
        long started = System.nanoTime();
        log.open(); // from here no earlier leader commits anything
        long followed = follower.finish().get(2, TimeUnit.MINUTES);
        campaigns.takeOver().get(60, TimeUnit.SECONDS);
        Leadership.Leader self =
                new Leadership.Leader(config.coordinatorId(), config.advertisedUrl(http.actualPort()), clock.instant());
        log.send(new ProducerRecord<>(
                        config.topics().leader(), 0, "leader", json.write(self).getBytes(StandardCharsets.UTF_8)))
                .get(60, TimeUnit.SECONDS);
        synchronized (this) {
            if (closed) {
                return;
            }
            leadership.leads(self);
            startLeaderLoops();
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        metrics.tookOver(took);
        leads.complete(null);
        LOG.info(
                "coordinator {} leads group {} (transactional id {}): took over in {} ms, every earlier leader "
                        + "fenced, {} campaign events followed",
                config.coordinatorId(),
                config.group(),
                log.transactionalId(),
                took.toMillis(),
                followed);
    }

    /**
     * The principals of the API. In secure mode a principals file that names at least one principal is
     * required (the settings name one, or the coordinator does not get this far); without one it does not start.
     */
    private static Principals principals(SecuritySettings security, JsonCodec json) {
        return security.principalsFile() == null ? Principals.none() : Principals.read(security.principalsFile(), json);
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

    /** Completes once this replica leads its group: at start, or when it took over from the previous leader. */
    public CompletionStage<Void> leads() {
        return leads;
    }

    /**
     * Reads the principals file, the API's certificate and key and the client CA bundle again, whether they
     * changed or not (SIGHUP, {@code systemctl reload}). What cannot be used is refused, logged at ERROR, and
     * what was in force before stays.
     *
     * @return completes when both are done, with whether everything read is in force now
     */
    public CompletionStage<Boolean> reload() {
        io.vertx.core.Future<Boolean> readPrincipals = principals.file().isPresent()
                ? vertx.executeBlocking(principals::reload, false)
                : io.vertx.core.Future.succeededFuture(true);
        io.vertx.core.Future<Boolean> readTls = config.tls().serves()
                ? ServerTls.reload(http, config.tls(), "SIGHUP")
                : io.vertx.core.Future.succeededFuture(true);
        return io.vertx.core.Future.all(readPrincipals, readTls)
                .map(both -> readPrincipals.result() && readTls.result())
                .toCompletionStage();
    }

    /** Every route the API serves, as {@code METHOD path}. */
    List<String> routes() {
        return api.routes();
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
        vertx.cancelTimer(lagTimer);
        vertx.cancelTimer(reloadTimer);
        if (oidc != null) {
            oidc.close();
        }
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("closing Vert.x: {}", e.toString());
        }
        if (results != null) {
            backupIntake.stop();
            deadLetters.stop();
            results.stop();
        }
        inventory.stop();
        follower.stop();
        join(backupThread);
        join(deadLetterThread);
        join(resultsThread);
        join(inventoryThread);
        join(followerThread);
        takeoverThread.shutdownNow();
        campaignThread.shutdown();
        try {
            campaignThread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // What was sent commits before the lead is handed over, so the successor's fencing aborts nothing.
        log.close();
        election.stop();
        join(electionThread);
        topics.close();
        admin.close(Duration.ofSeconds(10));
        metrics.close();
    }

    private static void join(Thread thread) {
        if (thread == null) {
            return;
        }
        try {
            thread.join(Duration.ofSeconds(20).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
