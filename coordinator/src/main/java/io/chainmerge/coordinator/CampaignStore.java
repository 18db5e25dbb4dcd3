package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.CampaignEvent;
import io.chainmerge.common.message.MessageCodec;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The campaigns' event log: {@code chainmerge.campaigns}, compacted, keyed by entity. Appends are
 * committed (a transaction of the {@link TransactionalLog}) before the coordinator acts on them; every
 * replica follows the topic ({@link StateFollower}) to hold the same campaigns.
 */
final class CampaignStore {
    private final TransactionalLog log;
    private final String topic;
    private final MessageCodec codec;

    CampaignStore(TransactionalLog log, String topic, MessageCodec codec) {
        this.log = log;
        this.topic = topic;
        this.codec = codec;
    }

    /** Drops what is kept under {@code key}: compaction removes its records, and then the tombstone. */
    CompletableFuture<Void> tombstone(String key) {
        return log.send(new ProducerRecord<>(topic, key, null)).thenApply(metadata -> null);
    }

    /** Appends {@code event}; completes once its transaction has committed. */
    CompletableFuture<Void> append(CampaignEvent event) {
        return log.send(new ProducerRecord<>(topic, event.key(), codec.write(event)))
                .thenApply(metadata -> null);
    }
}
