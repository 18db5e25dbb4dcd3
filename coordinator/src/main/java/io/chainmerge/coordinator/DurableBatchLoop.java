package io.chainmerge.coordinator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A coordinator poll loop whose records must become durable before they are committed: every record of
 * a batch is handed to {@code handler}, and the batch's offsets are committed only once every future it
 * returned has completed; when one fails (or the commit does) the loop seeks back to the batch's start
 * and reads it again, so handlers must be idempotent. Records of one partition are handed over in order.
 */
final class DurableBatchLoop implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(DurableBatchLoop.class);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration RECORDING_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);

    private final String name;
    private final Consumer<String, byte[]> consumer;
    private final List<String> topics;
    private final Function<ConsumerRecord<String, byte[]>, CompletableFuture<?>> handler;
    private volatile boolean running = true;

    /** {@code name} says what the records are, in log lines ("results", "backup events"). */
    DurableBatchLoop(
            String name,
            Consumer<String, byte[]> consumer,
            List<String> topics,
            Function<ConsumerRecord<String, byte[]>, CompletableFuture<?>> handler) {
        this.name = name;
        this.consumer = consumer;
        this.topics = List.copyOf(topics);
        this.handler = handler;
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(topics);
            while (running) {
                ConsumerRecords<String, byte[]> records;
                try {
                    records = consumer.poll(POLL);
                } catch (WakeupException e) {
                    continue;
                }
                if (!records.isEmpty()) {
                    recordAndCommit(records);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
    }

    private void recordAndCommit(ConsumerRecords<String, byte[]> records) throws InterruptedException {
        List<CompletableFuture<?>> recorded = new ArrayList<>();
        Map<TopicPartition, Long> first = new HashMap<>();
        Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
        for (ConsumerRecord<String, byte[]> record : records) {
            TopicPartition partition = new TopicPartition(record.topic(), record.partition());
            first.putIfAbsent(partition, record.offset());
            next.put(partition, new OffsetAndMetadata(record.offset() + 1));
            recorded.add(handler.apply(record));
        }
        try {
            CompletableFuture.allOf(recorded.toArray(CompletableFuture[]::new))
                    .get(RECORDING_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            consumer.commitSync(next, COMMIT_TIMEOUT);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            LOG.warn("{} not recorded or not committed, reading them again: {}", name, e.toString());
            first.forEach(consumer::seek);
        }
    }

    void stop() {
        running = false;
        consumer.wakeup();
    }
}
