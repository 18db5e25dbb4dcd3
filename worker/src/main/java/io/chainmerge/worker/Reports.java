package io.chainmerge.worker;

import io.chainmerge.common.kafka.Acks;
import io.chainmerge.common.message.DeadLetter;
import io.chainmerge.common.message.JobProgress;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.VolumeInventory;
import io.chainmerge.common.topic.Topics;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/** What a worker publishes: results, progress, inventory and dead letters, each on its topic. */
final class Reports {
    private final Producer<String, byte[]> producer;
    private final Topics topics;
    private final MessageCodec codec;

    private final Executor callbacks;

    /**
     * @param callbacks where the futures complete: never the producer's I/O thread, since a follow-up
     *     send from there would wait for metadata only that thread can fetch
     */
    Reports(Producer<String, byte[]> producer, Topics topics, MessageCodec codec, Executor callbacks) {
        this.producer = producer;
        this.callbacks = callbacks;
        this.topics = topics;
        this.codec = codec;
    }

    CompletableFuture<RecordMetadata> result(JobResult result) {
        return send(topics.results(), result.jobId(), codec.write(result));
    }

    CompletableFuture<RecordMetadata> progress(JobProgress progress) {
        return send(topics.progress(), progress.jobId(), codec.write(progress));
    }

    CompletableFuture<RecordMetadata> inventory(VolumeInventory inventory) {
        return send(topics.inventory(), inventory.key(), codec.write(inventory));
    }

    CompletableFuture<RecordMetadata> deadLetter(DeadLetter letter) {
        return send(topics.deadLetter(), letter.key(), codec.write(letter));
    }

    private CompletableFuture<RecordMetadata> send(String topic, String key, byte[] value) {
        return Acks.send(producer, new ProducerRecord<>(topic, key, value), callbacks);
    }
}
