package io.chainmerge.coordinator;

import io.chainmerge.common.message.DeadLetter;
import io.chainmerge.common.message.MalformedMessageException;
import io.chainmerge.common.message.MessageCodec;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@code chainmerge.dead-letter}, through a {@link DurableBatchLoop}: each job record a worker
 * rejected fails the job it stands for, with the worker's reason, and the batch is committed only once
 * those failures are durable. Without it a rejected job would wait for a result that never comes. An
 * unreadable letter, or one that matches no job waiting for a result, is logged and counted; the loop goes on.
 */
final class DeadLetters {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetters.class);

    private final MessageCodec codec;
    private final Campaigns campaigns;
    private final DurableBatchLoop loop;

    DeadLetters(Consumer<String, byte[]> consumer, String topic, MessageCodec codec, Campaigns campaigns) {
        this.codec = codec;
        this.campaigns = campaigns;
        this.loop = new DurableBatchLoop("dead letters", consumer, List.of(topic), this::take);
    }

    /** The poll loop, for the thread that runs it. */
    Runnable loop() {
        return loop;
    }

    private CompletableFuture<?> take(ConsumerRecord<String, byte[]> record) {
        DeadLetter letter;
        try {
            letter = codec.read(record.value(), DeadLetter.class);
        } catch (MalformedMessageException e) {
            LOG.warn(
                    "ignoring an unreadable dead letter at {}-{}@{}: {}",
                    record.topic(),
                    record.partition(),
                    record.offset(),
                    e.getMessage());
            return campaigns.onUnreadableDeadLetter();
        }
        return campaigns.onDeadLetter(letter);
    }

    void stop() {
        loop.stop();
    }
}
