package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.CampaignSpec.Limits;
import io.chainmerge.common.config.Config;
import io.chainmerge.common.config.ConfigDef;
import io.chainmerge.common.config.ConfigException;
import io.chainmerge.common.config.ConfigKey;
import io.chainmerge.common.config.ConfigType;
import io.chainmerge.common.kafka.KafkaClients;
import io.chainmerge.common.topic.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The coordinator's settings, declared once; {@link #DEF} is what {@code chainmerge coordinator} reads. */
public record CoordinatorConfig(
        String coordinatorId,
        String httpHost,
        int httpPort,
        int topicPartitions,
        short topicReplication,
        Duration tick,
        BackupSettings backup,
        Topics topics,
        KafkaClients kafka,
        StallSettings stalls) {

    public static final ConfigKey ID = ConfigKey.optional(
            "coordinator.id",
            ConfigType.STRING,
            "coordinator",
            "this coordinator's name; its consumer group is chainmerge-ID");
    public static final ConfigKey HTTP_HOST =
            ConfigKey.optional("http.host", ConfigType.STRING, "0.0.0.0", "address of the HTTP API");
    public static final ConfigKey HTTP_PORT =
            ConfigKey.optional("http.port", ConfigType.INT, 8080, "port of the HTTP API; 0 for any free port");
    public static final ConfigKey TOPIC_PREFIX =
            ConfigKey.optional("topics.prefix", ConfigType.STRING, "chainmerge", "the first part of every topic name");
    public static final ConfigKey TOPIC_PARTITIONS = ConfigKey.optional(
            "topics.partitions",
            ConfigType.INT,
            6,
            "partitions of the topics the coordinator creates (a pool's jobs spread over them by chain)");
    public static final ConfigKey TOPIC_REPLICATION = ConfigKey.optional(
            "topics.replication",
            ConfigType.INT,
            0,
            "replication factor of the topics the coordinator creates; 0 for the cluster's default.replication.factor");
    public static final ConfigKey TICK = ConfigKey.optional(
            "tick",
            ConfigType.DURATION,
            Duration.ofMillis(500),
            "how often campaigns publish what their limits allow and check for their end");

    public static final ConfigKey BACKUP_PER_VOLUME = ConfigKey.optional(
            "backup.limits.per-volume",
            ConfigType.INT,
            1,
            "merges for one backup system's requests running at once on one volume");
    public static final ConfigKey BACKUP_PER_POOL = ConfigKey.optional(
            "backup.limits.per-pool",
            ConfigType.INT,
            0,
            "merges for one backup system's requests running at once in one pool; 0 for no limit");
    public static final ConfigKey BACKUP_OVERALL = ConfigKey.optional(
            "backup.limits.overall",
            ConfigType.INT,
            0,
            "merges for one backup system's requests running at once; 0 for no limit");
    public static final ConfigKey BACKUP_RATE = ConfigKey.optional(
            "backup.rate",
            ConfigType.STRING,
            "",
            "the most bytes per second of each merge for a backup request, e.g. 200MiB/s; empty for the workers' setting");
    public static final ConfigKey BACKUP_RESERVE = ConfigKey.optional(
            "backup.reserve",
            ConfigType.STRING,
            "",
            "space each merge for a backup request leaves free, e.g. 2GiB or 5%; empty for the workers' setting");

    public static final ConfigKey JOB_STALL_TIMEOUT = ConfigKey.optional(
            "job.stall-timeout",
            ConfigType.DURATION,
            Duration.ofMinutes(10),
            "a published job whose worker shows no sign of life this long (no progress, no result) is published"
                    + " again; workers report every job they hold every progress.interval (2s at most),"
                    + " so keep this many times that; at least 2s");
    public static final ConfigKey JOB_MAX_ATTEMPTS = ConfigKey.optional(
            "job.max-attempts",
            ConfigType.INT,
            3,
            "how many times a stalled job is sent to its pool in all before it fails with reason stalled");

    public static final ConfigDef DEF = new ConfigDef(
            "coordinator",
            "kafka.",
            List.of(
                    ID,
                    HTTP_HOST,
                    HTTP_PORT,
                    TOPIC_PREFIX,
                    TOPIC_PARTITIONS,
                    TOPIC_REPLICATION,
                    TICK,
                    BACKUP_PER_VOLUME,
                    BACKUP_PER_POOL,
                    BACKUP_OVERALL,
                    BACKUP_RATE,
                    BACKUP_RESERVE,
                    JOB_STALL_TIMEOUT,
                    JOB_MAX_ATTEMPTS));

    public static CoordinatorConfig from(Config config) {
        return new CoordinatorConfig(
                config.string(ID),
                config.string(HTTP_HOST),
                config.integer(HTTP_PORT),
                config.integer(TOPIC_PARTITIONS),
                (short) config.integer(TOPIC_REPLICATION),
                config.duration(TICK),
                backup(config),
                new Topics(config.string(TOPIC_PREFIX)),
                new KafkaClients(config.passthrough()),
                stalls(config));
    }

    private static StallSettings stalls(Config config) {
        try {
            return new StallSettings(config.duration(JOB_STALL_TIMEOUT), config.integer(JOB_MAX_ATTEMPTS));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("job.*", "is wrong: " + e.getMessage());
        }
    }

    private static BackupSettings backup(Config config) {
        String rate = config.string(BACKUP_RATE);
        String reserve = config.string(BACKUP_RESERVE);
        try {
            BackupSettings settings = new BackupSettings(
                    new Limits(
                            config.integer(BACKUP_PER_VOLUME),
                            config.integer(BACKUP_PER_POOL),
                            config.integer(BACKUP_OVERALL)),
                    rate.isBlank() ? null : rate,
                    reserve.isBlank() ? null : reserve);
            settings.spec("check", List.of("check")); // the spec's own checks of rate and reserve
            return settings;
        } catch (IllegalArgumentException e) {
            throw new ConfigException("backup.*", "is wrong: " + e.getMessage());
        }
    }

    public static CoordinatorConfig of(Map<String, ?> settings) {
        return from(Config.resolve(DEF, settings, Map.of(), Map.of()));
    }

    public String groupId() {
        return "chainmerge-" + coordinatorId;
    }
}
