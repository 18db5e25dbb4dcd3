package io.chainmerge.worker;

import io.chainmerge.common.kafka.Acks;
import io.chainmerge.common.message.DeadLetter;
import io.chainmerge.common.message.InventoryPages;
import io.chainmerge.common.message.JobProgress;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.VolumeInventory;
import io.chainmerge.common.message.VolumeScan;
import io.chainmerge.common.topic.Topics;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
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
    /** How many pages this worker last published for each volume ({@code host:volume}). */
    private final Map<String, Integer> pagesSent = new ConcurrentHashMap<>();

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

    /**
     * Publishes a whole scan of one volume as pages ({@link InventoryPages}) under a new scan id, and
     * completes with what the space check's result says of it once every page is acknowledged. Pages an
     * earlier scan of the volume had beyond this one's get tombstones, so the compacted topic keeps no
     * more pages than the latest scans need (a reader ignores them anyway: they name another scan).
     */
    CompletableFuture<VolumeScan> inventory(VolumeInventory whole) {
        List<VolumeInventory> pages =
                InventoryPages.split(whole, UUID.randomUUID().toString(), codec, InventoryPages.PAGE_BYTES);
        List<CompletableFuture<RecordMetadata>> sent = new ArrayList<>();
        for (VolumeInventory page : pages) {
            sent.add(send(topics.inventory(), page.pageKey(), codec.write(page)));
        }
        Integer before = pagesSent.put(whole.key(), pages.size());
        for (int stale = pages.size(); before != null && stale < before; stale++) {
            sent.add(send(topics.inventory(), whole.key() + "#" + stale, null));
        }
        return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new))
                .thenApply(x -> pages.get(0).summary());
    }

    CompletableFuture<RecordMetadata> deadLetter(DeadLetter letter) {
        return send(topics.deadLetter(), letter.key(), codec.write(letter));
    }

    /** Waits, on a job's own thread, for what was sent to be acknowledged; a failure to send is an I/O error. */
    static <T> T await(CompletableFuture<T> sent) throws IOException {
        try {
            return sent.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while publishing to Kafka");
        } catch (ExecutionException e) {
            Throwable cause =
                    e.getCause() instanceof CompletionException c && c.getCause() != null ? c.getCause() : e.getCause();
            throw new IOException("could not publish the inventory: " + cause.getMessage(), cause);
        }
    }

    private CompletableFuture<RecordMetadata> send(String topic, String key, byte[] value) {
        return Acks.send(producer, new ProducerRecord<>(topic, key, value), callbacks);
    }
}
