package io.chainmerge.common.kafka;

import io.chainmerge.common.message.Schema;
import io.chainmerge.common.topic.Topics;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * What each kind of Kafka client of chainmerge may do, and nothing more (docs/security.md#kafka-identities):
 * the one place that names a role's consumer groups and transactional id, which the daemons use, and the
 * ACLs that grant exactly those and the topics the role reads and writes. The CLI ({@code chainmerge kafka
 * acls}), the Kubernetes {@code KafkaUser}s and the demo's broker are made from these grants.
 *
 * <p>A worker can therefore not publish jobs, campaign state or results in another pool's name: it reads
 * its own pool's jobs and writes results, progress, inventory and dead letters, nothing else.
 */
public sealed interface KafkaRole permits KafkaRole.Coordinator, KafkaRole.Worker, KafkaRole.BackupSystem {

    /** The role's name in the CLI and in the docs: {@code coordinator}, {@code worker}, {@code backup-system}. */
    String name();

    /** Every permission the role needs, each once. */
    List<Grant> grants();

    /** The grants as ACL bindings for one principal ({@code User:NAME}), from any host. */
    default List<AclBinding> bindings(String principal) {
        if (principal == null || !principal.matches("[A-Za-z]+:.+")) {
            throw new IllegalArgumentException("a Kafka principal is TYPE:NAME, e.g. User:storage-a, not " + principal);
        }
        List<AclBinding> bindings = new ArrayList<>();
        for (Grant grant : grants()) {
            for (AclOperation operation : grant.operations()) {
                bindings.add(new AclBinding(
                        new ResourcePattern(grant.resource(), grant.name(), grant.pattern()),
                        new AccessControlEntry(principal, "*", operation, AclPermissionType.ALLOW)));
            }
        }
        return bindings;
    }

    /** Operations allowed on one resource (or on every resource whose name starts so, for a prefix). */
    record Grant(ResourceType resource, String name, PatternType pattern, List<AclOperation> operations) {
        public Grant {
            if (pattern != PatternType.LITERAL && pattern != PatternType.PREFIXED) {
                throw new IllegalArgumentException("a grant names a resource literally or by prefix: " + pattern);
            }
            operations = List.copyOf(operations);
        }

        static Grant topic(String name, AclOperation... operations) {
            return new Grant(ResourceType.TOPIC, name, PatternType.LITERAL, List.of(operations));
        }

        static Grant topicsStartingWith(String prefix, AclOperation... operations) {
            return new Grant(ResourceType.TOPIC, prefix, PatternType.PREFIXED, List.of(operations));
        }

        static Grant group(String name) {
            return new Grant(ResourceType.GROUP, name, PatternType.LITERAL, List.of(AclOperation.READ));
        }
    }

    /**
     * The replicas of one coordinator group (they share one identity: any of them may lead). It creates every
     * topic, publishes jobs to every pool, keeps the campaign state and the election, writes audit records and
     * notifications, and reads what workers and backup systems send.
     */
    record Coordinator(Topics topics, String group) implements KafkaRole {
        public Coordinator {
            if (group == null || group.isBlank()) {
                throw new IllegalArgumentException("a coordinator group has a name");
            }
        }

        @Override
        public String name() {
            return "coordinator";
        }

        /** The consumer group that reads results and progress: one per coordinator group, whoever leads. */
        public String resultsGroup() {
            return "chainmerge-" + group;
        }

        public String backupEventsGroup() {
            return resultsGroup() + "-backup";
        }

        public String deadLetterGroup() {
            return resultsGroup() + "-dead-letter";
        }

        /** The consumer group whose holder of the leader topic's partition leads. */
        public String leaderGroup() {
            return topics.prefix() + "-" + group + "-leader";
        }

        /** Shared by every replica of the group: the leader's producer takes it, fencing every earlier one. */
        public String transactionalId() {
            return topics.prefix() + "-" + group;
        }

        @Override
        public List<Grant> grants() {
            return List.of(
                    // The shared topics at start, a pool's job topic before its first job.
                    Grant.topicsStartingWith(topics.prefix() + ".", AclOperation.CREATE),
                    Grant.topicsStartingWith(topics.prefix() + ".jobs.", AclOperation.WRITE),
                    Grant.topic(topics.campaigns(), AclOperation.READ, AclOperation.WRITE),
                    Grant.topic(topics.leader(), AclOperation.READ, AclOperation.WRITE),
                    Grant.topic(topics.audit(), AclOperation.WRITE),
                    Grant.topic(topics.notifications(), AclOperation.WRITE),
                    Grant.topic(topics.results(), AclOperation.READ),
                    Grant.topic(topics.progress(), AclOperation.READ),
                    Grant.topic(topics.inventory(), AclOperation.READ),
                    Grant.topic(topics.deadLetter(), AclOperation.READ),
                    Grant.topic(topics.backupEvents(), AclOperation.READ),
                    Grant.group(resultsGroup()),
                    Grant.group(backupEventsGroup()),
                    Grant.group(deadLetterGroup()),
                    Grant.group(leaderGroup()),
                    new Grant(
                            ResourceType.TRANSACTIONAL_ID,
                            transactionalId(),
                            PatternType.LITERAL,
                            List.of(AclOperation.WRITE, AclOperation.DESCRIBE)));
        }
    }

    /**
     * The workers of one pool (they share one identity, or each has its own with the same grants). They create
     * the topics they use when those do not exist yet, so workers may start before the coordinator.
     */
    record Worker(Topics topics, String pool) implements KafkaRole {
        public Worker {
            pool = Schema.poolName(pool, "pool");
        }

        @Override
        public String name() {
            return "worker";
        }

        /** The consumer group of the pool: every worker of a pool shares it. */
        public String poolGroup() {
            return Topics.poolGroup(pool);
        }

        /** The topics the pool's workers create if they are missing: those they read and write. */
        public List<String> topicNames() {
            return List.of(
                    topics.jobs(pool), topics.results(), topics.progress(), topics.inventory(), topics.deadLetter());
        }

        @Override
        public List<Grant> grants() {
            return List.of(
                    Grant.topic(topics.jobs(pool), AclOperation.READ, AclOperation.CREATE),
                    Grant.topic(topics.results(), AclOperation.WRITE, AclOperation.CREATE),
                    Grant.topic(topics.progress(), AclOperation.WRITE, AclOperation.CREATE),
                    Grant.topic(topics.inventory(), AclOperation.WRITE, AclOperation.CREATE),
                    Grant.topic(topics.deadLetter(), AclOperation.WRITE, AclOperation.CREATE),
                    Grant.group(poolGroup()));
        }
    }

    /**
     * A backup system that publishes CloudEvents to chainmerge (docs/backup-integration.md) and reads the
     * outcomes, in a consumer group of its own when it uses one.
     */
    record BackupSystem(Topics topics, Optional<String> group) implements KafkaRole {
        public BackupSystem {
            if (group.isPresent() && !group.get().matches("[A-Za-z0-9._-]+")) {
                throw new IllegalArgumentException(
                        "a consumer group holds letters, digits, '.', '_' and '-': " + group.get());
            }
        }

        @Override
        public String name() {
            return "backup-system";
        }

        @Override
        public List<Grant> grants() {
            List<Grant> grants = new ArrayList<>(List.of(
                    Grant.topic(topics.backupEvents(), AclOperation.WRITE),
                    Grant.topic(topics.notifications(), AclOperation.READ)));
            group.ifPresent(name -> grants.add(Grant.group(name)));
            return List.copyOf(grants);
        }
    }
}
