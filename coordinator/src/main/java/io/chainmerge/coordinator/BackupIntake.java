package io.chainmerge.coordinator;

import io.cloudevents.kafka.KafkaMessageFactory;
import io.cloudevents.rw.CloudEventRWException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes {@code chainmerge.backup-events} in, through a {@link DurableBatchLoop}: a batch's offsets are
 * committed only once every event in it is durably a request in its standing campaign, or has its
 * {@code invalid} notification acknowledged; otherwise the batch is read again (a request is recognised by its
 *
 * id, so reading it twice records nothing new). Events of one partition are taken in order, so a
 * backup system that keys its events by VM has that VM's requests recorded in the order it sent them.
 */
final class BackupIntake {
    private static final Logger LOG = LoggerFactory.getLogger(BackupIntake.class);

    private final BackupEvents events;
    private final BackupNotifier notifier;
    private final Campaigns campaigns;
    private final DurableBatchLoop loop;
    private final Predicate<String> configuredSource;

    BackupIntake(
            Consumer<String, byte[]> consumer,
            String topic,
            BackupEvents events,
            BackupNotifier notifier,
            Campaigns campaigns,
            Predicate<String> configuredSource) {
        this.events = events;
        this.configuredSource = configuredSource;
        this.notifier = notifier;
        this.campaigns = campaigns;
        this.loop = new DurableBatchLoop("backup events", consumer, List.of(topic), this::take);
    }

    /** The poll loop, for the thread that runs it. */
    Runnable loop() {
        return loop;
    }

    private CompletableFuture<?> take(ConsumerRecord<String, byte[]> record) {
        String origin = record.topic() + "/" + record.partition() + "@" + record.offset();
        try {
            BackupEvent event = events.read(KafkaMessageFactory.createReader(record));
            if (!configuredSource.test(event.source())) {
                throw BackupEvents.unknownSource(event);
            }
            return campaigns.accept(event);
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
        loop.stop();
    }
}
