package io.chainmerge.common.kafka;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/** Sends a record and hands its acknowledgement over as a future. */
public final class Acks {
    private Acks() {}

    /**
     * Sends {@code record}; the future completes on {@code callbacks}, never on the producer's I/O
     * thread, since a follow-up send from there would wait for metadata only that thread can fetch.
     */
    public static CompletableFuture<RecordMetadata> send(
            Producer<String, byte[]> producer, ProducerRecord<String, byte[]> record, Executor callbacks) {
        CompletableFuture<RecordMetadata> acked = new CompletableFuture<>();
        try {
            producer.send(
                    record,
                    (metadata, error) -> callbacks.execute(() -> {
                        if (error != null) {
                            acked.completeExceptionally(error);
                        } else {
                            acked.complete(metadata);
                        }
                    }));
        } catch (RuntimeException e) {
            acked.completeExceptionally(e);
        }
        return acked;
    }
}
