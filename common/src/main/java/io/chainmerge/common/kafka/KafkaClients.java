package io.chainmerge.common.kafka;

import io.chainmerge.common.topic.Topics;
import io.chainmerge.common.topic.Topics.TopicSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Kafka client settings for the worker and the coordinator: the configured {@code kafka.*} settings
 * passed through as they are (so SASL and TLS work), over chainmerge's defaults for each role.
 * Records are keyed by strings and carry JSON bytes.
 */
public final class KafkaClients {
    private final Map<String, String> passthrough;

    public KafkaClients(Map<String, String> passthrough) {
        if (!passthrough.containsKey("bootstrap.servers")) {
            throw new IllegalArgumentException("kafka.bootstrap.servers is required");
        }
        this.passthrough = Map.copyOf(passthrough);
    }

    public String bootstrapServers() {
        return passthrough.get("bootstrap.servers");
    }

    /**
     * A producer that loses nothing and reorders nothing: every in-sync replica acknowledges, and
     * idempotence keeps retries from duplicating or reordering records.
     */
    public Map<String, Object> producer(String clientId) {
        Map<String, Object> settings = new HashMap<>();
        settings.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        settings.put(ProducerConfig.ACKS_CONFIG, "all");
        settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        settings.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        settings.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 300_000);
        // Inventory pages and campaign state are JSON, which compresses well.
        settings.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        settings.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MAX_MESSAGE_BYTES);
        settings.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        settings.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        settings.putAll(passthrough);
        return settings;
    }

    /**
     * A {@link #producer} that writes only in transactions under {@code transactionalId}: a later producer
     * that takes the same id fences this one. Transactions are short (milliseconds), so one left open by a
     * producer that stopped blocks {@code read_committed} readers of its partitions for at most
     * {@code transactionTimeout}, when no successor aborts it first.
     */
    public Map<String, Object> transactionalProducer(
            String clientId, String transactionalId, Duration transactionTimeout) {
        Map<String, Object> settings = producer(clientId);
        settings.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        settings.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) transactionTimeout.toMillis());
        return settings;
    }

    /** A consumer that commits only what its owner says is done. */
    public Map<String, Object> consumer(String clientId, String groupId) {
        Map<String, Object> settings = new HashMap<>();
        settings.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        if (groupId != null) {
            settings.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        }
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        settings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        settings.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        settings.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        settings.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        settings.putAll(passthrough);
        return settings;
    }

    public Map<String, Object> admin(String clientId) {
        Map<String, Object> settings = new HashMap<>(passthrough);
        settings.put("client.id", clientId);
        return settings;
    }

    /**
     * The client settings of a SCRAM-SHA-512 user, over {@code securityProtocol} ({@code SASL_SSL}, or
     * {@code SASL_PLAINTEXT} on a network nobody else reaches).
     */
    public static Map<String, String> scramSha512(String securityProtocol, String user, String password) {
        if (user.contains("\"") || password.contains("\"") || user.contains("\\") || password.contains("\\")) {
            throw new IllegalArgumentException("a SCRAM user name or password here holds no quote or backslash");
        }
        return Map.of(
                "security.protocol",
                securityProtocol,
                "sasl.mechanism",
                "SCRAM-SHA-512",
                "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user + "\" password=\""
                        + password + "\";");
    }

    /**
     * Creates ACLs (those that exist already stay as they are), as a principal that may alter them; a refusal
     * or a silent cluster ends in an {@link IllegalStateException} that says which.
     */
    public static void createAcls(Admin admin, List<AclBinding> acls) throws InterruptedException {
        try {
            admin.createAcls(acls).all().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(
                    "the cluster did not create the ACLs: " + e.getCause().getMessage(), e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("the cluster did not create the ACLs in 60 s", e);
        }
    }

    /** Makes a SCRAM-SHA-512 user, or gives an existing one a new password. */
    public static void upsertScramUser(Admin admin, String name, String password) throws InterruptedException {
        try {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(
                            name, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password)))
                    .all()
                    .get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(
                    "the cluster did not make the SCRAM user " + name + ": "
                            + e.getCause().getMessage(),
                    e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("the cluster did not make the SCRAM user " + name + " in 60 s", e);
        }
    }

    /** Creates the topics that do not exist yet; leaves existing ones as they are. */
    public static void ensureTopics(Admin admin, List<TopicSpec> topics, int partitions, short replication)
            throws InterruptedException, TimeoutException {
        Set<String> existing;
        try {
            existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(
                    "cannot list topics: " + e.getCause().getMessage(), e.getCause());
        }
        List<NewTopic> missing = new ArrayList<>();
        for (TopicSpec topic : topics) {
            if (!existing.contains(topic.name())) {
                // A replication factor of 0 or less leaves it to the cluster's default.replication.factor.
                missing.add(new NewTopic(
                                topic.name(),
                                Optional.of(partitions),
                                replication > 0 ? Optional.of(replication) : Optional.empty())
                        .configs(topic.configs()));
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        for (var entry : admin.createTopics(missing).values().entrySet()) {
            try {
                entry.getValue().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw new IllegalStateException(
                            "cannot create topic " + entry.getKey() + ": "
                                    + e.getCause().getMessage(),
                            e.getCause());
                }
            }
        }
    }
}
