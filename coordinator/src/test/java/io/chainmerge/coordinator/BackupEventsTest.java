package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.chainmerge.common.campaign.BackupRequest.Kind;
import io.chainmerge.common.json.JsonCodec;
import io.cloudevents.CloudEvent;
import io.cloudevents.core.builder.CloudEventBuilder;
import io.cloudevents.http.HttpMessageFactory;
import io.cloudevents.jackson.JsonFormat;
import io.cloudevents.kafka.KafkaMessageFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/** Reading backup events: both content modes, and every way an event can be wrong, each with its reason. */
class BackupEventsTest {
    private final BackupEvents events = new BackupEvents(
            new JsonCodec(), host -> host.equals("storage-a") ? Optional.of("pool-a") : Optional.empty());

    @Test
    void aReleasedCheckpointReadsTheSameInStructuredAndBinaryModeOnKafkaAndOverHttp() throws Exception {
        CloudEvent event = event(
                "io.chainmerge.backup.checkpoint.released",
                """
                {"pool": "pool-a", "disk": "/srv/vol1/vm01/vm01_3.avhdx", "deadline": "2026-11-25T06:00:00Z", "priority": 5}""");
        BackupEvent structured = events.read(KafkaMessageFactory.createReader(consumed(
                KafkaMessageFactory.<String>createWriter("t", "vm01").writeStructured(event, new JsonFormat()))));
        BackupEvent binary = events.read(KafkaMessageFactory.createReader(
                consumed(KafkaMessageFactory.<String>createWriter("t", "vm01").writeBinary(event))));
        BackupEvent http = events.read(HttpMessageFactory.createReader(
                Map.of("Content-Type", "application/cloudevents+json"), new JsonFormat().serialize(event)));

        assertThat(binary).isEqualTo(structured).isEqualTo(http);
        assertThat(structured.kind()).isEqualTo(Kind.CHECKPOINT_RELEASED);
        assertThat(structured.pool()).isEqualTo("pool-a");
        assertThat(structured.disk()).isEqualTo("/srv/vol1/vm01/vm01_3.avhdx");
        assertThat(structured.deadline()).isEqualTo(Instant.parse("2026-11-25T06:00:00Z"));
        assertThat(structured.priority()).isEqualTo(5);
        assertThat(structured.requestId()).isEqualTo(BackupEvents.requestId("/backup/veeam-01", "ev-1"));
    }

    @Test
    void theRequestIdDependsOnSourceAndIdOnly() {
        assertThat(BackupEvents.requestId("/a", "1"))
                .isEqualTo(BackupEvents.requestId("/a", "1"))
                .isNotEqualTo(BackupEvents.requestId("/b", "1"))
                .isNotEqualTo(BackupEvents.requestId("/a", "2"))
                .matches("br-[0-9a-f]{24}");
        assertThat(BackupEvents.campaignId("/backup/veeam-01")).matches("backup-backup-veeam-01-[0-9a-f]{8}");
    }

    @Test
    void aHostIsResolvedToItsPool() throws Exception {
        BackupEvent event = events.check(event(
                "io.chainmerge.backup.chain.cleanup-requested",
                "{\"host\": \"storage-a\", \"folder\": \"/srv/vol1/vm01/\"}"));
        assertThat(event.pool()).isEqualTo("pool-a");
        assertThat(event.folder()).isEqualTo("/srv/vol1/vm01");
        assertThat(event.priority()).isZero();
    }

    @Test
    void aRecordThatIsNoCloudEventIsRefusedAsSuch() {
        InvalidBackupEvent invalid = catchThrowableOfType(
                InvalidBackupEvent.class,
                () -> events.read(HttpMessageFactory.createReader(
                        Map.of("content-type", "application/cloudevents+json"), "{not json".getBytes())));
        assertThat(invalid.reason()).isEqualTo("not-a-cloudevent");
        assertThat(invalid.requestId()).isNull();
    }

    @Test
    void anUnknownTypeIsRefusedWithTheRequestId() {
        InvalidBackupEvent invalid = invalid(event("com.example.done", "{}"));
        assertThat(invalid.reason()).isEqualTo("unknown-type");
        assertThat(invalid.requestId()).isEqualTo(BackupEvents.requestId("/backup/veeam-01", "ev-1"));
    }

    @Test
    void badDataIsRefusedWithWhatIsWrong() {
        String released = "io.chainmerge.backup.checkpoint.released";
        assertThat(invalid(event(released, "{\"pool\": \"pool-a\", \"disk\": \"vm01/x.avhdx\"}"))
                        .getMessage())
                .contains("disk must be an absolute path");
        assertThat(invalid(event(released, "{\"pool\": \"pool-a\", \"disk\": \"/srv/../etc/x.avhdx\"}"))
                        .getMessage())
                .contains("must not contain");
        assertThat(invalid(event(released, "{\"pool\": \"pool-a\"}")).getMessage())
                .contains("disk is required");
        assertThat(invalid(event(released, "{\"pool\": \"pool-a\", \"host\": \"storage-a\", \"disk\": \"/x.avhdx\"}"))
                        .getMessage())
                .contains("either the pool or the host");
        assertThat(invalid(event(released, "{\"pool\": \"a b\", \"disk\": \"/x.avhdx\"}"))
                        .getMessage())
                .contains("pool may hold only");
        assertThat(invalid(event(released, "{\"pool\": \"pool-a\", \"disk\": \"/x.avhdx\", \"priority\": 10}"))
                        .getMessage())
                .contains("priority is 0 to 9");
        assertThat(invalid(event(released, "{\"pool\": \"pool-a\", \"disk\": \"/x.avhdx\", \"vm\": \"x\"}"))
                        .getMessage())
                .contains("vm");
        assertThat(invalid(event(released, "{\"pool\": \"pool-a\", \"disk\": \"/x.avhdx\", \"deadline\": \"soon\"}"))
                        .reason())
                .isEqualTo("invalid-data");
        assertThat(invalid(event(released, "[1, 2]")).reason()).isEqualTo("invalid-data");
        assertThat(invalid(CloudEventBuilder.v1(event(released, "{}"))
                                .withData("text/plain", "pool-a /x.avhdx".getBytes(StandardCharsets.UTF_8))
                                .build())
                        .getMessage())
                .contains("application/json");
        assertThat(invalid(CloudEventBuilder.v1(event(released, "{}"))
                                .withoutData()
                                .build())
                        .getMessage())
                .contains("no data");
    }

    @Test
    void anUnknownHostIsRefusedWithItsOwnReason() {
        InvalidBackupEvent invalid = invalid(
                event("io.chainmerge.backup.checkpoint.released", "{\"host\": \"storage-z\", \"disk\": \"/x.avhdx\"}"));
        assertThat(invalid.reason()).isEqualTo("unknown-host");
    }

    private InvalidBackupEvent invalid(CloudEvent event) {
        return catchThrowableOfType(InvalidBackupEvent.class, () -> events.check(event));
    }

    private static CloudEvent event(String type, String data) {
        return CloudEventBuilder.v1()
                .withId("ev-1")
                .withSource(URI.create("/backup/veeam-01"))
                .withType(type)
                .withData("application/json", data.getBytes(StandardCharsets.UTF_8))
                .build();
    }

    private static ConsumerRecord<String, byte[]> consumed(ProducerRecord<String, byte[]> sent) {
        ConsumerRecord<String, byte[]> record = new ConsumerRecord<>(sent.topic(), 0, 0, sent.key(), sent.value());
        sent.headers().forEach(h -> record.headers().add(h));
        return record;
    }
}
