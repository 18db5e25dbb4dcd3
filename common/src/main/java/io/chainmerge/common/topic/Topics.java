package io.chainmerge.common.topic;

import io.chainmerge.common.message.Schema;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * chainmerge's topic names and how each is kept. Every name starts with a prefix ({@code chainmerge}
 * unless configured), so several installations can share a cluster.
 */
public record Topics(String prefix) {
    public Topics {
        if (prefix == null || !prefix.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("a topic prefix holds letters, digits, '.', '_' and '-': " + prefix);
        }
    }

    /**
     * What chainmerge's topics accept, as headroom: no record it writes comes near a broker's default 1 MiB
     * (a space check's inventory travels in pages of at most {@code InventoryPages.PAGE_BYTES}, and its
     * result names the pages without holding a disk).
     */
    public static final int MAX_MESSAGE_BYTES = 16 << 20;

    /** How a topic is kept: compacted (the latest record per key) or deleted after a retention time. */
    public record TopicSpec(String name, boolean compacted, Duration retention) {
        public Map<String, String> configs() {
            String max = String.valueOf(MAX_MESSAGE_BYTES);
            return compacted
                    // Segments roll hourly, so compaction reaches superseded records and tombstones within hours;
                    // a tombstone itself is kept a day, for readers that were away.
                    ? Map.of(
                            "cleanup.policy",
                            "compact",
                            "min.compaction.lag.ms",
                            "0",
                            "segment.ms",
                            String.valueOf(Duration.ofHours(1).toMillis()),
                            "delete.retention.ms",
                            String.valueOf(Duration.ofDays(1).toMillis()),
                            "max.message.bytes",
                            max)
                    : Map.of(
                            "cleanup.policy",
                            "delete",
                            "retention.ms",
                            String.valueOf(retention.toMillis()),
                            "max.message.bytes",
                            max);
        }
    }

    /** The consumer group of one pool's workers: every worker of the pool shares it. */
    public static String poolGroup(String pool) {
        return POOL_GROUP_PREFIX + pool;
    }

    /** What every pool's group id starts with: the coordinator finds the pools' groups by it. */
    public static final String POOL_GROUP_PREFIX = "chainmerge-pool-";

    /** Jobs for the workers of one pool; its workers form one consumer group. */
    public String jobs(String pool) {
        return prefix + ".jobs." + Schema.poolName(pool, "pool");
    }

    /** One result per job, keyed by job id. */
    public String results() {
        return prefix + ".results";
    }

    /** Running merges' progress, keyed by job id. */
    public String progress() {
        return prefix + ".progress";
    }

    /** Each volume's latest scan, compacted, keyed {@code host:volume}. */
    public String inventory() {
        return prefix + ".inventory";
    }

    /** The coordinator's event-sourced campaign state, compacted, keyed by campaign and entity. */
    public String campaigns() {
        return prefix + ".campaigns";
    }

    /** Job records a worker could not read, with the reason. */
    public String deadLetter() {
        return prefix + ".dead-letter";
    }

    /** CloudEvents from backup systems (docs/backup-integration.md), keyed by the sender, e.g. by VM. */
    public String backupEvents() {
        return prefix + ".backup-events";
    }

    /** One CloudEvent per backup request's outcome (and per invalid event), keyed by request id. */
    public String notifications() {
        return prefix + ".notifications";
    }

    /**
     * The coordinator group's election (docs/campaigns.md#leadership): one partition, compacted; the replica
     * whose consumer holds it leads, and announces itself on it under the key {@code leader}.
     */
    public String leader() {
        return prefix + ".leader";
    }

    /** One record per state-changing call to the coordinator's API, with its caller, keyed by principal. */
    public String audit() {
        return prefix + ".audit";
    }

    public TopicSpec jobsSpec(String pool) {
        return new TopicSpec(jobs(pool), false, Duration.ofDays(7));
    }

    /** Every topic that does not belong to one pool. */
    public List<TopicSpec> shared() {
        return List.of(
                new TopicSpec(results(), false, Duration.ofDays(7)),
                new TopicSpec(progress(), false, Duration.ofHours(6)),
                new TopicSpec(inventory(), true, null),
                new TopicSpec(campaigns(), true, null),
                new TopicSpec(deadLetter(), false, Duration.ofDays(30)),
                new TopicSpec(backupEvents(), false, Duration.ofDays(7)),
                new TopicSpec(notifications(), false, Duration.ofDays(7)),
                new TopicSpec(audit(), false, Duration.ofDays(365)));
    }
}
