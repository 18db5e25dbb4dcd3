package io.chainmerge.worker;

import io.chainmerge.common.config.Config;
import io.chainmerge.common.config.ConfigDef;
import io.chainmerge.common.config.ConfigKey;
import io.chainmerge.common.config.ConfigType;
import io.chainmerge.common.config.LogFormat;
import io.chainmerge.common.kafka.KafkaClients;
import io.chainmerge.common.kafka.KafkaRole;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.security.TlsFiles;
import io.chainmerge.common.topic.Topics;
import io.chainmerge.disk.merge.Reserve;
import io.chainmerge.disk.pace.PaceSettings;
import io.chainmerge.worker.inuse.InUseSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A worker's settings, declared once: {@link #DEF} is what {@code chainmerge worker} reads (file,
 * environment, flags; see {@link Config} for the precedence) and what the README lists.
 */
public record WorkerConfig(
        String workerId,
        String pool,
        List<Path> volumes,
        int concurrencyPerVolume,
        long rateBytesPerSecond,
        PaceSettings pacing,
        Reserve reserve,
        String httpHost,
        int httpPort,
        String httpAdvertisedUrl,
        Duration progressInterval,
        Duration shutdownGrace,
        Duration journalRetention,
        int topicPartitions,
        short topicReplication,
        Topics topics,
        TransferSecurity security,
        Duration transferIdleTimeout,
        InUseSettings inUse,
        KafkaClients kafka) {

    public static final ConfigKey ID = ConfigKey.optional(
            "worker.id",
            ConfigType.STRING,
            "",
            "this worker's name in results and metrics; empty for host name and process id");
    public static final ConfigKey POOL = ConfigKey.required(
            "pool", ConfigType.STRING, "the pool this worker serves: it consumes chainmerge.jobs.POOL");
    public static final ConfigKey VOLUMES = ConfigKey.required(
            "volumes", ConfigType.LIST, "the volume roots this worker serves; no job touches a file outside them");
    public static final ConfigKey CONCURRENCY =
            ConfigKey.optional("concurrency.per-volume", ConfigType.INT, 1, "jobs running at once on one volume");
    public static final ConfigKey RATE = ConfigKey.optional(
            "rate",
            ConfigType.SIZE,
            0L,
            "the most bytes per second a merge copies when its job sets none; 0 for no limit");
    public static final ConfigKey LATENCY_TARGET = ConfigKey.optional(
            "io.latency-target",
            ConfigType.DURATION,
            Duration.ZERO,
            "the service latency (per I/O, of the device under a volume) that the volume's merges keep under by slowing down between io.min-rate and rate, e.g. 20ms; 0 for a fixed pace (rate alone). See docs/pacing.md");
    public static final ConfigKey LATENCY_PAUSE = ConfigKey.optional(
            "io.latency-pause",
            ConfigType.DURATION,
            Duration.ZERO,
            "with io.latency-target: above this latency for two samples in a row the volume's merges stop copying until it is back under the target; 0 never to pause");
    public static final ConfigKey MIN_RATE = ConfigKey.optional(
            "io.min-rate",
            ConfigType.SIZE,
            8L << 20,
            "with io.latency-target: the slowest a merge goes while the latency is over its target, in bytes per second");
    public static final ConfigKey LATENCY_INTERVAL = ConfigKey.optional(
            "io.latency-interval",
            ConfigType.DURATION,
            Duration.ofSeconds(1),
            "with io.latency-target: how often a volume's latency is sampled and its merges' pace set");
    public static final ConfigKey RESERVE = ConfigKey.optional(
            "reserve",
            ConfigType.STRING,
            "",
            "space a merge leaves free when its job sets none: a size (2GiB) or a share (5%); empty for 1 GiB or 5 %, whichever is smaller");
    public static final ConfigKey HTTP_HOST = ConfigKey.optional(
            "http.host", ConfigType.STRING, "0.0.0.0", "address of /health, /ready, /metrics and /transfer/v1");
    public static final ConfigKey HTTP_PORT = ConfigKey.optional(
            "http.port",
            ConfigType.INT,
            8081,
            "port of /health, /ready, /metrics and /transfer/v1; 0 for any free port");
    public static final ConfigKey HTTP_ADVERTISED_URL = ConfigKey.optional(
            "http.advertised-url",
            ConfigType.STRING,
            "",
            "the URL other workers reach this one at, for transplants; empty for https://HOSTNAME:PORT (the port in use; http:// without TLS)");
    public static final ConfigKey PROGRESS_INTERVAL = ConfigKey.optional(
            "progress.interval",
            ConfigType.DURATION,
            Duration.ofSeconds(1),
            "how often a running merge reports progress, and every other job the worker holds (waiting for a slot or a chain in use) a sign of life without bytes; at most 2s");
    public static final ConfigKey SHUTDOWN_GRACE = ConfigKey.optional(
            "shutdown.grace",
            ConfigType.DURATION,
            Duration.ofSeconds(20),
            "on SIGTERM, how long running jobs may finish before they are interrupted (resumably)");
    public static final ConfigKey JOURNAL_RETENTION = ConfigKey.optional(
            "journal.retention",
            ConfigType.DURATION,
            Duration.ofDays(7),
            "how long finished jobs stay in the job journal, answering redeliveries with their result");
    public static final ConfigKey TOPIC_PREFIX =
            ConfigKey.optional("topics.prefix", ConfigType.STRING, "chainmerge", "the first part of every topic name");
    public static final ConfigKey TOPIC_PARTITIONS = ConfigKey.optional(
            "topics.partitions",
            ConfigType.INT,
            6,
            "partitions of a topic the worker has to create (its pool's, when missing)");
    public static final ConfigKey TOPIC_REPLICATION = ConfigKey.optional(
            "topics.replication",
            ConfigType.INT,
            0,
            "replication factor of a topic the worker creates; 0 for the cluster's default.replication.factor");

    public static final ConfigKey SECURITY_MODE = ConfigKey.optional(
            "security.mode",
            ConfigType.STRING,
            "secure",
            "secure: refuse to start without tls.certificate, tls.key, tls.ca and transfer.verification-keys; insecure: start without them (plain HTTP; without keys no transfer is served or asked for), with a loud warning, for labs only");
    public static final ConfigKey TRANSFER_VERIFICATION_KEYS = ConfigKey.optional(
            "transfer.verification-keys",
            ConfigType.LIST,
            List.of(),
            "PEM files of the coordinator's Ed25519 public keys that sign transfer capabilities (several while a new signing key rolls out); without any, no transfer is served or asked for");

    public static final ConfigKey TRANSFER_IDLE_TIMEOUT = ConfigKey.optional(
            "transfer.idle-timeout",
            ConfigType.DURATION,
            Duration.ofSeconds(60),
            "how long a transplant's stream from another worker may stay silent (no headers, no next bytes) before it counts as broken and is resumed; silent on every try, the transplant fails transfer-failed and its partial copy is removed. Longer than 256 KiB takes at the slowest transfer rate");

    public static final ConfigDef DEF = new ConfigDef(
            "worker",
            "kafka.",
            Stream.concat(
                            Stream.of(
                                    ID,
                                    POOL,
                                    VOLUMES,
                                    CONCURRENCY,
                                    RATE,
                                    LATENCY_TARGET,
                                    LATENCY_PAUSE,
                                    MIN_RATE,
                                    LATENCY_INTERVAL,
                                    RESERVE,
                                    HTTP_HOST,
                                    HTTP_PORT,
                                    HTTP_ADVERTISED_URL,
                                    PROGRESS_INTERVAL,
                                    SHUTDOWN_GRACE,
                                    JOURNAL_RETENTION,
                                    TOPIC_PREFIX,
                                    TOPIC_PARTITIONS,
                                    TOPIC_REPLICATION,
                                    SECURITY_MODE,
                                    TlsFiles.CERTIFICATE,
                                    TlsFiles.KEY,
                                    TlsFiles.CA,
                                    TRANSFER_VERIFICATION_KEYS,
                                    TRANSFER_IDLE_TIMEOUT,
                                    LogFormat.KEY),
                            InUseSettings.KEYS.stream())
                    .toList());

    public WorkerConfig {
        Schema.poolName(pool, "pool");
        if (volumes.isEmpty()) {
            throw new IllegalArgumentException("volumes: name at least one volume root");
        }
        volumes = List.copyOf(volumes);
        if (concurrencyPerVolume < 1) {
            throw new IllegalArgumentException("concurrency.per-volume must be at least 1");
        }
        if (!httpAdvertisedUrl.isEmpty()
                && !httpAdvertisedUrl.startsWith("http://")
                && !httpAdvertisedUrl.startsWith("https://")) {
            throw new IllegalArgumentException(
                    "http.advertised-url must be an http:// or https:// URL: " + httpAdvertisedUrl);
        }
        if (progressInterval.compareTo(Duration.ofSeconds(2)) > 0
                || progressInterval.isNegative()
                || progressInterval.isZero()) {
            throw new IllegalArgumentException("progress.interval must be more than 0 and at most 2s");
        }
        if (transferIdleTimeout.isNegative() || transferIdleTimeout.isZero()) {
            throw new IllegalArgumentException("transfer.idle-timeout must be more than 0: " + transferIdleTimeout);
        }
    }

    public static WorkerConfig from(Config config) {
        LogFormat.from(config); // the launcher applies it; a wrong value stops the worker here, named
        String id = config.string(ID);
        return new WorkerConfig(
                id.isBlank() ? defaultId() : id,
                config.string(POOL),
                config.list(VOLUMES).stream().map(Path::of).toList(),
                config.integer(CONCURRENCY),
                config.size(RATE),
                new PaceSettings(
                        config.duration(LATENCY_TARGET),
                        config.duration(LATENCY_PAUSE),
                        config.size(MIN_RATE),
                        config.size(RATE),
                        config.duration(LATENCY_INTERVAL)),
                config.string(RESERVE).isBlank() ? Reserve.DEFAULT : Reserve.parse(config.string(RESERVE)),
                config.string(HTTP_HOST),
                config.integer(HTTP_PORT),
                config.string(HTTP_ADVERTISED_URL),
                config.duration(PROGRESS_INTERVAL),
                config.duration(SHUTDOWN_GRACE),
                config.duration(JOURNAL_RETENTION),
                config.integer(TOPIC_PARTITIONS),
                (short) config.integer(TOPIC_REPLICATION),
                new Topics(config.string(TOPIC_PREFIX)),
                new TransferSecurity(
                        TransferSecurity.Mode.parse(config.string(SECURITY_MODE)),
                        TlsFiles.of(
                                config.string(TlsFiles.CERTIFICATE),
                                config.string(TlsFiles.KEY),
                                config.string(TlsFiles.CA)),
                        config.list(TRANSFER_VERIFICATION_KEYS).stream()
                                .map(Path::of)
                                .toList()),
                config.duration(TRANSFER_IDLE_TIMEOUT),
                InUseSettings.from(config),
                new KafkaClients(config.passthrough()));
    }

    /** Settings from a map, as tests and the demo build them. */
    public static WorkerConfig of(Map<String, ?> settings) {
        return from(Config.resolve(DEF, settings, Map.of(), Map.of()));
    }

    private static String defaultId() {
        return hostName("worker") + "-" + ProcessHandle.current().pid();
    }

    private static String hostName(String fallback) {
        String host = System.getenv().getOrDefault("HOSTNAME", "");
        if (host.isBlank()) {
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                host = fallback;
            }
        }
        return host;
    }

    /**
     * The URL other workers pull transplanted files from: {@code http.advertised-url}, else this
     * host's name and {@code port}, the port the HTTP server listens on (known once it is up), with
     * {@code https} when the server speaks TLS.
     */
    public String advertisedUrl(int port) {
        String scheme = security.tls().serves() ? "https://" : "http://";
        String url = httpAdvertisedUrl.isEmpty() ? scheme + hostName("localhost") + ":" + port : httpAdvertisedUrl;
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    /** The consumer group of this worker's pool: every worker of a pool shares it. */
    public String groupId() {
        return kafkaRole().poolGroup();
    }

    /** The pool's Kafka identity: its consumer group, the topics it uses, its ACLs (docs/security.md). */
    public KafkaRole.Worker kafkaRole() {
        return new KafkaRole.Worker(topics, pool);
    }
}
