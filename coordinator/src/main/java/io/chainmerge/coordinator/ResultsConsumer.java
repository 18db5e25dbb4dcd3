package io.chainmerge.coordinator;

import io.chainmerge.common.message.JobProgress;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MalformedMessageException;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.topic.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's poll loop over results and progress. A batch's offsets are committed only after
 * every result in it is durably recorded in its campaign; when recording fails the loop seeks back to
 * the batch's start and reads it again (recording is idempotent by job id). Progress is kept in memory
 * only: a lost progress report is replaced by the next one two seconds later.
 */
final class ResultsConsumer implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(ResultsConsumer.class);

    private final Consumer<String, byte[]> consumer;
    private final Topics topics;
    private final MessageCodec codec;
    private final Campaigns campaigns;
    private volatile boolean running = true;

    ResultsConsumer(Consumer<String, byte[]> consumer, Topics topics, MessageCodec codec, Campaigns campaigns) {
        this.consumer = consumer;
        this.topics = topics;
        this.codec = codec;
        this.campaigns = campaigns;
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(topics.results(), topics.progress()));
            while (running) {
                ConsumerRecords<String, byte[]> records;
                try {
                    records = consumer.poll(Duration.ofMillis(200));
                } catch (WakeupException e) {
                    continue;
                }
                if (records.isEmpty()) {
                    continue;
                }
                List<CompletableFuture<Void>> recorded = new ArrayList<>();
                Map<TopicPartition, Long> first = new HashMap<>();
                Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
                for (ConsumerRecord<String, byte[]> record : records) {
                    TopicPartition partition = new TopicPartition(record.topic(), record.partition());
                    first.putIfAbsent(partition, record.offset());
                    next.put(partition, new OffsetAndMetadata(record.offset() + 1));
                    try {
                        if (record.topic().equals(topics.results())) {
                            recorded.add(campaigns.onResult(codec.read(record.value(), JobResult.class)));
                        } else {
                            campaigns.onProgress(codec.read(record.value(), JobProgress.class));
                        }
                    } catch (MalformedMessageException e) {
                        LOG.warn("ignoring an unreadable record on {}: {}", record.topic(), e.getMessage());
                    }
                }
                try {
                    CompletableFuture.allOf(recorded.toArray(CompletableFuture[]::new))
                            .get(60, TimeUnit.SECONDS);
                    consumer.commitSync(next, Duration.ofSeconds(10));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (Exception e) {
                    LOG.warn("results not recorded or not committed, reading them again: {}", e.toString());
                    first.forEach(consumer::seek);
                }
            }
        } catch (KafkaException e) {
            LOG.error("the results consumer stopped", e);
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
    }

    void stop() {
        running = false;
        consumer.wakeup();
    }
}
