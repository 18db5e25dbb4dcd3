package io.chainmerge.coordinator;

import io.chainmerge.common.topic.Topics;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * How far each pool's workers are behind their jobs topic: per pool, the topic's end offsets minus the offsets
 * the pool's group committed (from the start of the log where it committed none). The coordinator asks the
 * broker rather than the workers reporting their own: a pool whose workers are all gone, when lag matters most,
 * would report nothing, and a worker's fetch lag stands still while a long merge keeps its partition paused.
 * A worker commits past a job only once its result is published, so a running job counts as behind; the
 * commit markers of the coordinator's transactions count too, so an idle pool may show one per partition.
 */
final class PoolLag {
    private static final long TIMEOUT_SECONDS = 10;

    private final Admin admin;
    private final Topics topics;

    PoolLag(Admin admin, Topics topics) {
        this.admin = admin;
        this.topics = topics;
    }

    /** Offsets behind, by pool, for every pool whose workers' group the broker knows. Blocks: not on an event loop. */
    Map<String, Long> read() throws Exception {
        Map<String, Long> lag = new TreeMap<>();
        for (GroupListing group : admin.listGroups(ListGroupsOptions.forConsumerGroups())
                .valid()
                .get(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            if (group.groupId().startsWith(Topics.POOL_GROUP_PREFIX)) {
                String pool = group.groupId().substring(Topics.POOL_GROUP_PREFIX.length());
                try {
                    lag.put(pool, lagOf(group.groupId(), topics.jobs(pool)));
                } catch (IllegalArgumentException | java.util.concurrent.ExecutionException e) {
                    // Not a pool of ours, or its topic is gone: no figure rather than a wrong one.
                }
            }
        }
        return lag;
    }

    private long lagOf(String group, String topic) throws Exception {
        List<TopicPartitionInfo> partitions = admin.describeTopics(List.of(topic))
                .allTopicNames()
                .get(TIMEOUT_SECONDS, TimeUnit.SECONDS)
                .get(topic)
                .partitions();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        for (TopicPartitionInfo partition : partitions) {
            TopicPartition tp = new TopicPartition(topic, partition.partition());
            latest.put(tp, OffsetSpec.latest());
            earliest.put(tp, OffsetSpec.earliest());
        }
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata()
                .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        Map<TopicPartition, ListOffsetsResultInfo> ends =
                admin.listOffsets(latest).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        Map<TopicPartition, ListOffsetsResultInfo> starts =
                admin.listOffsets(earliest).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        long behind = 0;
        for (TopicPartition tp : latest.keySet()) {
            OffsetAndMetadata done = committed.get(tp);
            long from = done == null ? starts.get(tp).offset() : done.offset();
            behind += Math.max(0, ends.get(tp).offset() - from);
        }
        return behind;
    }
}
