package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.CampaignEvent;
import io.chainmerge.common.kafka.Acks;
import io.chainmerge.common.message.MalformedMessageException;
import io.chainmerge.common.message.MessageCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The campaigns' event log: {@code chainmerge.campaigns}, compacted, keyed by entity. Appends are
 * acknowledged by every in-sync replica before the coordinator acts on them; on start the whole topic
 * is read back to rebuild every campaign.
 */
final class CampaignStore {
    private static final Logger LOG = LoggerFactory.getLogger(CampaignStore.class);

    private final Producer<String, byte[]> producer;
    private final String topic;
    private final MessageCodec codec;
    private final Executor callbacks;

    CampaignStore(Producer<String, byte[]> producer, String topic, MessageCodec codec, Executor callbacks) {
        this.producer = producer;
        this.topic = topic;
        this.codec = codec;
        this.callbacks = callbacks;
    }

    /** Appends {@code event}; completes on {@code callbacks} once it is durable. */
    CompletableFuture<Void> append(CampaignEvent event) {
        return Acks.send(producer, new ProducerRecord<>(topic, event.key(), codec.write(event)), callbacks)
                .thenApply(metadata -> null);
    }

    /** Every event on the topic, in order per entity, up to the end as it stands now. */
    static List<CampaignEvent> replay(Map<String, Object> consumerSettings, String topic, MessageCodec codec) {
        List<CampaignEvent> events = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumerSettings)) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    if (record.value() == null) {
                        continue;
                    }
                    try {
                        events.add(codec.read(record.value(), CampaignEvent.class));
                    } catch (MalformedMessageException e) {
                        LOG.warn(
                                "skipping an unreadable campaign event at {}@{}: {}",
                                record.partition(),
                                record.offset(),
                                e.getMessage());
                    }
                }
            }
        }
        return events;
    }
}
