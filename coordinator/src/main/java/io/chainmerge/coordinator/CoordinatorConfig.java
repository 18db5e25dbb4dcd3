package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.CampaignSpec.Limits;
import io.chainmerge.common.config.Config;
import io.chainmerge.common.config.ConfigDef;
import io.chainmerge.common.config.ConfigException;
import io.chainmerge.common.config.ConfigKey;
import io.chainmerge.common.config.ConfigType;
import io.chainmerge.common.config.LogFormat;
import io.chainmerge.common.kafka.KafkaClients;
import io.chainmerge.common.kafka.KafkaRole;
import io.chainmerge.common.security.TlsFiles;
import io.chainmerge.common.topic.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The coordinator's settings, declared once; {@link #DEF} is what {@code chainmerge coordinator} reads. */
public record CoordinatorConfig(
        String coordinatorId,
        String group,
        Duration leaderSessionTimeout,
        String advertisedUrl,
        String httpHost,
        int httpPort,
        int topicPartitions,
        short topicReplication,
        Duration tick,
        BackupSettings backup,
        SecuritySettings security,
        Topics topics,
        KafkaClients kafka,
        TlsFiles tls,
        TransferSigning transferSigning,
        StallSettings stalls,
        Duration retention,
        OidcSettings oidc,
        int volumeBudget,
        CampaignStreams.Settings events,
        boolean plaintextAllowed) {

    /**
     * Checked once every other setting is read, so that a wrong one is named first: a secure coordinator needs
     * principals, and takes tokens in the clear over no network ({@link HttpTransport}).
     */
    public CoordinatorConfig {
        if (!security.insecure() && security.principalsFile() == null) {
            throw new ConfigException(
                    PRINCIPALS_FILE.name(),
                    "is required: security.mode is secure (the default), and without principals nobody could call "
                            + "the API. Make a token with chainmerge token new --name NAME --role operator "
                            + "--principals-file FILE, or set security.mode: insecure for a lab (docs/security.md)");
        }
        HttpTransport.of(tls, security.insecure(), httpHost, plaintextAllowed);
    }

    /** How the API's tokens travel: over TLS, or in plain HTTP on loopback, by permission or in a lab. */
    public HttpTransport transport() {
        return HttpTransport.of(tls, security.insecure(), httpHost, plaintextAllowed);
    }

    public static final ConfigKey ID = ConfigKey.optional(
            "coordinator.id",
            ConfigType.STRING,
            "",
            "this replica's name, different for every replica of a group; empty for the host name");
    public static final ConfigKey GROUP = ConfigKey.optional(
            "coordinator.group",
            ConfigType.STRING,
            "coordinator",
            "the coordinator group: its replicas share campaigns, one leads and the others stand by "
                    + "(docs/campaigns.md#leadership); results are read by the consumer group chainmerge-GROUP");
    public static final ConfigKey LEADER_SESSION_TIMEOUT = ConfigKey.optional(
            "leader.session-timeout",
            ConfigType.DURATION,
            Duration.ofSeconds(10),
            "a leader not heard from this long (killed, paused, cut off) loses the lead to a standby; at least the "
                    + "broker's group.min.session.timeout.ms (6s by default)");
    public static final ConfigKey ADVERTISED_URL = ConfigKey.optional(
            "http.advertised-url",
            ConfigType.STRING,
            "",
            "the URL other replicas name when they answer a write while this one leads; empty for "
                    + "http(s)://HOST:PORT, HOST being http.host, or the host name when that is every address");
    public static final ConfigKey HTTP_HOST =
            ConfigKey.optional("http.host", ConfigType.STRING, "0.0.0.0", "address of the HTTP API");
    public static final ConfigKey HTTP_PLAINTEXT = ConfigKey.optional(
            "http.plaintext",
            ConfigType.STRING,
            "refuse",
            "refuse: in security.mode secure, the coordinator does not start with a plain-HTTP API (no tls.certificate "
                    + "and tls.key) unless http.host is a loopback address; allow: it starts anyway and bearer tokens "
                    + "cross the network in the clear (unsafe; logged at WARN; docs/security.md#secure-by-default)");
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

    public static final ConfigKey VOLUME_BUDGET = ConfigKey.optional(
            "limits.per-volume",
            ConfigType.INT,
            4,
            "merges and transplants running at once on one volume across every campaign, pool and worker that"
                    + " reaches it (known by its .chainmerge/volume-id); 0 for no limit beyond each campaign's own");

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
    public static final ConfigKey BACKUP_WINDOWS = ConfigKey.optional(
            "backup.windows",
            ConfigType.LIST,
            List.of(),
            "when merges for backup requests may run, e.g. Mon-Fri 22:00-06:00,Sat-Sun (docs/pacing.md); empty for any time");
    public static final ConfigKey BACKUP_TIME_ZONE = ConfigKey.optional(
            "backup.time-zone", ConfigType.STRING, "", "the zone of backup.windows, e.g. Europe/Paris; empty for UTC");

    public static final ConfigKey SECURITY_MODE = ConfigKey.optional(
            "security.mode",
            ConfigType.STRING,
            "secure",
            "secure: every call but /health, /ready and /metrics needs a principal's bearer token, and the coordinator "
                    + "does not start without security.principals-file; insecure: anyone who reaches the API may do "
                    + "anything (a lab; logged loudly)");
    public static final ConfigKey PRINCIPALS_FILE = ConfigKey.optional(
            "security.principals-file",
            ConfigType.STRING,
            "",
            "the file of the API's principals: name, roles, the SHA-256 of the token (chainmerge token new), a "
                    + "backup system's source; read again when it changes and on SIGHUP (docs/security.md)");
    public static final ConfigKey BACKUP_SOURCES = ConfigKey.optional(
            "security.backup-sources",
            ConfigType.LIST,
            List.of(),
            "CloudEvent sources whose backup events are taken (e.g. from chainmerge.backup-events) besides those "
                    + "bound to backup-system principals; others are refused, so no standing campaign is made for them");
    public static final ConfigKey BODY_LIMIT = ConfigKey.optional(
            "http.body-limit",
            ConfigType.SIZE,
            1L << 20,
            "the largest request body the API reads; larger ones are answered 413");
    public static final ConfigKey EVENTS_HEARTBEAT = ConfigKey.optional(
            "http.events.heartbeat",
            ConfigType.DURATION,
            Duration.ofSeconds(15),
            "how often a campaign's event stream (GET /v1/campaigns/{id}/events) sends a comment while nothing "
                    + "changes, so proxies and load balancers keep an idle stream open");
    public static final ConfigKey EVENTS_BUFFER = ConfigKey.optional(
            "http.events.buffer",
            ConfigType.INT,
            1000,
            "events held for one stream's caller while its connection takes no more; a caller that falls further "
                    + "behind is sent a reset and dropped, and reconnects to a fresh snapshot");
    public static final ConfigKey WRITE_RATE = ConfigKey.optional(
            "security.write-rate",
            ConfigType.INT,
            120,
            "state-changing calls (submit, cancel, pause, resume, approve, backup events) one principal may make per "
                    + "minute; more are answered 429 with Retry-After");
    public static final ConfigKey WRITE_BURST = ConfigKey.optional(
            "security.write-burst",
            ConfigType.INT,
            30,
            "state-changing calls one principal may make at once before security.write-rate holds it back");
    public static final ConfigKey TLS_CLIENT_CA = ConfigKey.optional(
            "tls.client-ca",
            ConfigType.STRING,
            "",
            "PEM bundle of the CAs whose client certificates may name principals (mTLS): with it the API asks each "
                    + "caller for a certificate, and a principal with a certificate entry may call with one instead "
                    + "of a token (docs/security.md#client-certificates); needs tls.certificate and tls.key");
    public static final ConfigKey OIDC_JWKS_URL = ConfigKey.optional(
            OidcSettings.JWKS_URL,
            ConfigType.STRING,
            "",
            "https URL of an OIDC issuer's signing keys (JWKS): with it a bearer JWT of that issuer names a principal "
                    + "besides the principals file (docs/security.md#oidc-tokens); needs security.oidc.issuer and "
                    + "security.oidc.audience");
    public static final ConfigKey OIDC_ISSUER = ConfigKey.optional(
            "security.oidc.issuer", ConfigType.STRING, "", "the iss a JWT must carry: the OIDC issuer's URL");
    public static final ConfigKey OIDC_AUDIENCE = ConfigKey.optional(
            "security.oidc.audience",
            ConfigType.STRING,
            "",
            "the aud a JWT must carry: the client id the issuer knows this API by");
    public static final ConfigKey OIDC_ROLES_CLAIM = ConfigKey.optional(
            "security.oidc.roles-claim",
            ConfigType.STRING,
            "roles",
            "the JWT claim holding the caller's roles (viewer, operator, admin), a dotted path for a nested one such as "
                    + "realm_access.roles; other names in it are ignored");
    public static final ConfigKey OIDC_NAME_CLAIM = ConfigKey.optional(
            "security.oidc.name-claim",
            ConfigType.STRING,
            "sub",
            "the JWT claim that names the caller; audit records show it as oidc:NAME");
    public static final ConfigKey OIDC_CA = ConfigKey.optional(
            "security.oidc.ca",
            ConfigType.STRING,
            "",
            "PEM bundle of the CAs trusted for security.oidc.jwks-url instead of the system's");
    public static final ConfigKey TRANSFER_SIGNING_KEY = ConfigKey.optional(
            "transfer.signing-key",
            ConfigType.STRING,
            "",
            "PEM file (PKCS#8) of the Ed25519 private key that signs the transfer capability of each transplant between workers; without it such transplants are published unsigned and workers refuse them");
    public static final ConfigKey TRANSFER_CAPABILITY_LIFETIME = ConfigKey.optional(
            "transfer.capability-lifetime",
            ConfigType.DURATION,
            Duration.ofHours(2),
            "how long a transfer capability opens its job's files after the job is published; longer than a transplant takes");
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

    public static final ConfigKey RETENTION = ConfigKey.optional(
            "campaigns.retention",
            ConfigType.DURATION,
            Duration.ofDays(7),
            "how long a campaign that is over keeps its jobs, skips and recoveries; then it folds to its totals, "
                    + "so a restart reads live work, not history (its spec, state and history of actions stay)");

    public static final ConfigDef DEF = new ConfigDef(
            "coordinator",
            "kafka.",
            List.of(
                    ID,
                    GROUP,
                    LEADER_SESSION_TIMEOUT,
                    HTTP_HOST,
                    HTTP_PLAINTEXT,
                    ADVERTISED_URL,
                    HTTP_PORT,
                    TOPIC_PREFIX,
                    TOPIC_PARTITIONS,
                    TOPIC_REPLICATION,
                    TICK,
                    VOLUME_BUDGET,
                    BACKUP_PER_VOLUME,
                    BACKUP_PER_POOL,
                    BACKUP_OVERALL,
                    BACKUP_RATE,
                    BACKUP_RESERVE,
                    BACKUP_WINDOWS,
                    BACKUP_TIME_ZONE,
                    SECURITY_MODE,
                    PRINCIPALS_FILE,
                    BACKUP_SOURCES,
                    BODY_LIMIT,
                    EVENTS_HEARTBEAT,
                    EVENTS_BUFFER,
                    WRITE_RATE,
                    WRITE_BURST,
                    TlsFiles.CERTIFICATE,
                    TlsFiles.KEY,
                    TLS_CLIENT_CA,
                    OIDC_JWKS_URL,
                    OIDC_ISSUER,
                    OIDC_AUDIENCE,
                    OIDC_ROLES_CLAIM,
                    OIDC_NAME_CLAIM,
                    OIDC_CA,
                    TRANSFER_SIGNING_KEY,
                    TRANSFER_CAPABILITY_LIFETIME,
                    JOB_STALL_TIMEOUT,
                    JOB_MAX_ATTEMPTS,
                    RETENTION,
                    LogFormat.KEY));

    public static CoordinatorConfig from(Config config) {
        LogFormat.from(config); // the launcher applies it; a wrong value stops the coordinator here, named
        String id = config.string(ID).isBlank() ? hostName() : config.string(ID);
        return new CoordinatorConfig(
                id,
                config.string(GROUP),
                config.duration(LEADER_SESSION_TIMEOUT),
                config.string(ADVERTISED_URL),
                config.string(HTTP_HOST),
                config.integer(HTTP_PORT),
                config.integer(TOPIC_PARTITIONS),
                (short) config.integer(TOPIC_REPLICATION),
                config.duration(TICK),
                backup(config),
                security(config),
                new Topics(config.string(TOPIC_PREFIX)),
                new KafkaClients(config.passthrough()),
                serverTls(config),
                new TransferSigning(
                        config.string(TRANSFER_SIGNING_KEY).isBlank()
                                ? null
                                : java.nio.file.Path.of(config.string(TRANSFER_SIGNING_KEY)),
                        config.duration(TRANSFER_CAPABILITY_LIFETIME)),
                stalls(config),
                retention(config),
                OidcSettings.of(
                        config.string(OIDC_JWKS_URL),
                        config.string(OIDC_ISSUER),
                        config.string(OIDC_AUDIENCE),
                        config.string(OIDC_ROLES_CLAIM),
                        config.string(OIDC_NAME_CLAIM),
                        config.string(OIDC_CA),
                        SecuritySettings.insecure(config.string(SECURITY_MODE))),
                volumeBudget(config),
                events(config),
                HttpTransport.allows(config.string(HTTP_PLAINTEXT)));
    }

    private static int volumeBudget(Config config) {
        int budget = config.integer(VOLUME_BUDGET);
        if (budget < 0) {
            throw new ConfigException(VOLUME_BUDGET.name(), "cannot be negative, not " + budget);
        }
        return budget;
    }

    private static CampaignStreams.Settings events(Config config) {
        try {
            return new CampaignStreams.Settings(config.duration(EVENTS_HEARTBEAT), config.integer(EVENTS_BUFFER));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("http.events.*", "is wrong: " + e.getMessage());
        }
    }

    private static Duration retention(Config config) {
        Duration retention = config.duration(RETENTION);
        if (retention.isNegative() || retention.isZero()) {
            throw new ConfigException(RETENTION.name(), "must be longer than 0, not " + retention);
        }
        return retention;
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
                    reserve.isBlank() ? null : reserve,
                    config.list(BACKUP_WINDOWS),
                    config.string(BACKUP_TIME_ZONE).isBlank() ? null : config.string(BACKUP_TIME_ZONE));
            settings.spec("check", List.of("check")); // the spec's own checks of rate and reserve
            return settings;
        } catch (IllegalArgumentException e) {
            throw new ConfigException("backup.*", "is wrong: " + e.getMessage());
        }
    }

    private static SecuritySettings security(Config config) {
        String file = config.string(PRINCIPALS_FILE);
        return new SecuritySettings(
                SecuritySettings.insecure(config.string(SECURITY_MODE)),
                file.isBlank() ? null : Path.of(file),
                config.list(BACKUP_SOURCES),
                config.size(BODY_LIMIT),
                config.integer(WRITE_RATE),
                config.integer(WRITE_BURST));
    }

    /** The API's TLS; its {@link TlsFiles#ca()} is the CA bundle of client certificates ({@code tls.client-ca}). */
    private static TlsFiles serverTls(Config config) {
        TlsFiles tls = TlsFiles.of(
                config.string(TlsFiles.CERTIFICATE), config.string(TlsFiles.KEY), config.string(TLS_CLIENT_CA));
        if (tls.trusts() && !tls.serves()) {
            throw new ConfigException(
                    TLS_CLIENT_CA.name(),
                    "needs tls.certificate and tls.key: a client certificate is presented over TLS only");
        }
        return tls;
    }

    public static CoordinatorConfig of(Map<String, ?> settings) {
        return from(Config.resolve(DEF, settings, Map.of(), Map.of()));
    }

    /** The group's Kafka identity: its consumer groups, transactional id and ACLs (docs/security.md). */
    public KafkaRole.Coordinator kafkaRole() {
        return new KafkaRole.Coordinator(topics, group);
    }

    /** The consumer group that reads results: one per coordinator group, whichever replica leads it. */
    public String groupId() {
        return kafkaRole().resultsGroup();
    }

    /** Shared by every replica of the group: the leader's producer takes it, fencing every earlier one. */
    public String transactionalId() {
        return kafkaRole().transactionalId();
    }

    /** The consumer group whose holder of the leader topic's partition leads. */
    public String leaderGroupId() {
        return kafkaRole().leaderGroup();
    }

    /** Where other replicas send callers that want to write, while this one leads. */
    public String advertisedUrl(int boundPort) {
        if (!advertisedUrl.isBlank()) {
            return advertisedUrl;
        }
        boolean everyAddress = httpHost.equals("0.0.0.0") || httpHost.equals("::") || httpHost.isBlank();
        return (tls.serves() ? "https" : "http") + "://" + (everyAddress ? hostName() : httpHost) + ":" + boundPort;
    }

    private static String hostName() {
        String fromEnvironment = System.getenv("HOSTNAME");
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return fromEnvironment;
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "localhost";
        }
    }
}
