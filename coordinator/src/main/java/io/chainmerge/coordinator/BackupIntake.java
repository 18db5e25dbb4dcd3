package io.chainmerge.coordinator;

import io.cloudevents.kafka.KafkaMessageFactory;
import io.cloudevents.rw.CloudEventRWException;
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
 * The poll loop over {@code chainmerge.backup-events}. A batch's offsets are committed only once every
 * event in it is durably a request in its standing campaign, or has its {@code invalid} notification
 * acknowledged; otherwise the loop seeks back and reads the batch again (a request is recognised by its
 * id, so reading it twice records nothing new). Events of one partition are taken in order, so a
 * backup system that keys its events by VM has that VM's requests recorded in the order it sent them.
 */
final class BackupIntake implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(BackupIntake.class);

    private final Consumer<String, byte[]> consumer;
    private final String topic;
    private final BackupEvents events;
    private final BackupNotifier notifier;
    private final Campaigns campaigns;
    private volatile boolean running = true;

    BackupIntake(
            Consumer<String, byte[]> consumer,
            String topic,
            BackupEvents events,
            BackupNotifier notifier,
            Campaigns campaigns) {
        this.consumer = consumer;
        this.topic = topic;
        this.events = events;
        this.notifier = notifier;
        this.campaigns = campaigns;
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(topic));
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
                List<CompletableFuture<?>> done = new ArrayList<>();
                Map<TopicPartition, Long> first = new HashMap<>();
                Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
                for (ConsumerRecord<String, byte[]> record : records) {
                    TopicPartition partition = new TopicPartition(record.topic(), record.partition());
                    first.putIfAbsent(partition, record.offset());
                    next.put(partition, new OffsetAndMetadata(record.offset() + 1));
                    done.add(take(record));
                }
                try {
                    CompletableFuture.allOf(done.toArray(CompletableFuture[]::new))
                            .get(60, TimeUnit.SECONDS);
                    consumer.commitSync(next, Duration.ofSeconds(10));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (Exception e) {
                    LOG.warn("backup events not recorded or not committed, reading them again: {}", e.toString());
                    first.forEach(consumer::seek);
                }
            }
        } catch (KafkaException e) {
            LOG.error("the backup intake stopped", e);
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
    }

    private CompletableFuture<?> take(ConsumerRecord<String, byte[]> record) {
        String origin = record.topic() + "/" + record.partition() + "@" + record.offset();
        try {
            return campaigns.accept(events.read(KafkaMessageFactory.createReader(record)));
        } catch (InvalidBackupEvent invalid) {
            LOG.warn("invalid backup event at {}: {}", origin, invalid.getMessage());
            return notifier.invalid(invalid, origin);
        } catch (CloudEventRWException | IllegalArgumentException e) {
            LOG.warn("invalid backup event at {}: {}", origin, e.getMessage());
            return notifier.invalid(
                    new InvalidBackupEvent(
                            "not-a-cloudevent", "not a CloudEvent: " + e.getMessage(), null, null, null, null),
                    origin);
        }
    }

    void stop() {
        running = false;
        consumer.wakeup();
    }
}
