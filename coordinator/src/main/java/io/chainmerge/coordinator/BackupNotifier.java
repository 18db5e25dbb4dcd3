package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.BackupOutcome;
import io.chainmerge.common.campaign.BackupRequest;
import io.chainmerge.common.json.JsonCodec;
import io.cloudevents.CloudEvent;
import io.cloudevents.core.builder.CloudEventBuilder;
import io.cloudevents.jackson.JsonFormat;
import io.cloudevents.kafka.KafkaMessageFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Tells backup systems what became of their requests: one CloudEvent per outcome on
 * {@code chainmerge.notifications}, structured JSON (so a console consumer shows all of it), keyed by
 * request id, its {@code correlationid} the request id. An outcome's event id is derived from the
 * request, so one sent again after a restart is recognisably the same notification.
 */
final class BackupNotifier {
    /** What an invalid event's notification carries. {@code origin} says where it came in. */
    record InvalidRequest(
            String reason, String message, String origin, String type, String source, String id, String requestId) {}

    private static final JsonFormat FORMAT = new JsonFormat();

    private final TransactionalLog log;
    private final String topic;
    private final JsonCodec json;
    private final URI source;
    private final Clock clock;

    /** @param coordinatorGroup the coordinator group (not the replica), so the events' source survives a takeover */
    BackupNotifier(TransactionalLog log, String topic, JsonCodec json, String coordinatorGroup, Clock clock) {
        this.log = log;
        this.topic = topic;
        this.json = json;
        this.source = URI.create("/chainmerge/coordinator/" + coordinatorGroup);
        this.clock = clock;
    }

    /** Publishes a request's outcome; completes once the broker has it. */
    CompletableFuture<Void> outcome(BackupRequest request, BackupOutcome outcome) {
        CloudEvent event = CloudEventBuilder.v1()
                .withId(request.requestId() + "/outcome")
                .withSource(source)
                .withType(BackupEvents.MERGE_OUTCOME + outcome.outcome().wireName())
                .withSubject(request.disk() != null ? request.disk() : request.folder())
                .withTime(clock.instant().atOffset(ZoneOffset.UTC))
                .withExtension(BackupEvents.CORRELATION_ID, request.requestId())
                .withData("application/json", json.write(outcome).getBytes(StandardCharsets.UTF_8))
                .build();
        return send(request.requestId(), event);
    }

    /** Publishes that an event was invalid; completes once the broker has it. */
    CompletableFuture<Void> invalid(InvalidBackupEvent invalid, String origin) {
        InvalidRequest data = new InvalidRequest(
                invalid.reason(),
                invalid.getMessage(),
                origin,
                invalid.type(),
                invalid.source(),
                invalid.eventId(),
                invalid.requestId());
        CloudEventBuilder builder = CloudEventBuilder.v1()
                .withId(
                        invalid.requestId() != null
                                ? invalid.requestId() + "/invalid"
                                : UUID.randomUUID().toString())
                .withSource(source)
                .withType(BackupEvents.REQUEST_INVALID)
                .withTime(clock.instant().atOffset(ZoneOffset.UTC))
                .withData("application/json", json.write(data).getBytes(StandardCharsets.UTF_8));
        if (invalid.requestId() != null) {
            builder.withExtension(BackupEvents.CORRELATION_ID, invalid.requestId());
        }
        return send(invalid.requestId(), builder.build());
    }

    private CompletableFuture<Void> send(String key, CloudEvent event) {
        ProducerRecord<String, byte[]> record =
                KafkaMessageFactory.<String>createWriter(topic, key).writeStructured(event, FORMAT);
        return log.send(record).thenApply(metadata -> null);
    }
}
