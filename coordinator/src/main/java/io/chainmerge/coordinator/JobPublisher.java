package io.chainmerge.coordinator;

import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.TransplantJob;
import io.chainmerge.common.security.CapabilitySigner;
import io.chainmerge.common.topic.Topics;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Sends jobs to their pool's topic, keyed by chain so one chain's jobs stay in order. */
final class JobPublisher {
    private final TransactionalLog log;
    private final Topics topics;
    private final MessageCodec codec;
    private final Optional<CapabilitySigner> signer;

    JobPublisher(TransactionalLog log, Topics topics, MessageCodec codec, Optional<CapabilitySigner> signer) {
        this.log = log;
        this.topics = topics;
        this.codec = codec;
        this.signer = signer;
    }

    /**
     * A transplant between workers gets its transfer capability here, as it is published (and again
     * whenever it is published again), so its lifetime starts when the job can start, not when it was
     * planned. Without {@code transfer.signing-key} it goes without one and the workers refuse it.
     * Completes once the job's transaction has committed, with where it was written (a stalled job's lease needs it).
     */
    CompletableFuture<JobLeases.Placement> publish(Job job) {
        if (job instanceof TransplantJob transplant && transplant.crossWorker() && signer.isPresent()) {
            job = signer.get().sign(transplant);
        }
        return log.send(new ProducerRecord<>(topics.jobs(job.pool()), job.key(), codec.write(job)))
                .thenApply(
                        metadata -> new JobLeases.Placement(metadata.topic(), metadata.partition(), metadata.offset()));
    }
}
