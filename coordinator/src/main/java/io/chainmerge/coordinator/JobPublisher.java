package io.chainmerge.coordinator;

import io.chainmerge.common.kafka.Acks;
import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.topic.Topics;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Sends jobs to their pool's topic, keyed by chain so one chain's jobs stay in order. */
final class JobPublisher {
    private final Producer<String, byte[]> producer;
    private final Topics topics;
    private final MessageCodec codec;
    private final Executor callbacks;

    JobPublisher(Producer<String, byte[]> producer, Topics topics, MessageCodec codec, Executor callbacks) {
        this.producer = producer;
        this.topics = topics;
        this.codec = codec;
        this.callbacks = callbacks;
    }

    /** Completes once the broker has the job, with where it was written (a stalled job's lease needs it). */
    CompletableFuture<JobLeases.Placement> publish(Job job) {
        return Acks.send(
                        producer, new ProducerRecord<>(topics.jobs(job.pool()), job.key(), codec.write(job)), callbacks)
                .thenApply(
                        metadata -> new JobLeases.Placement(metadata.topic(), metadata.partition(), metadata.offset()));
    }
}
