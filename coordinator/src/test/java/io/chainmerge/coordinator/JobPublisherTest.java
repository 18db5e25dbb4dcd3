package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.TransplantJob;
import io.chainmerge.common.message.TransplantMode;
import io.chainmerge.common.message.TransplantSource;
import io.chainmerge.common.security.CapabilitySigner;
import io.chainmerge.common.security.CapabilityVerifier;
import io.chainmerge.common.security.TransferCapability;
import io.chainmerge.common.topic.Topics;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the coordinator puts on a pool's topic: a transplant between workers carries a capability signed
 * when it is published (the producer is Kafka's in-memory one: delivery is not the subject here).
 */
class JobPublisherTest {
    private final JsonCodec json = new JsonCodec();
    private final MessageCodec codec = new MessageCodec(json);
    private final KeyPair keys = keyPair();
    private final MockProducer<String, byte[]> producer =
            new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    private final TransactionalLog log = new TransactionalLog(
            settings -> producer,
            Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "chainmerge-test"),
            "test",
            Runnable::run,
            fenced -> {});

    @BeforeEach
    void open() {
        log.open();
    }

    @AfterEach
    void close() {
        log.close();
    }

    private static KeyPair keyPair() {
        try {
            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static TransplantJob transplant(TransplantSource source) {
        return new TransplantJob(
                Schema.VERSION,
                "c-1-r-move",
                "c-1",
                "pool-b",
                Instant.parse("2026-12-07T10:00:00Z"),
                "/srv/a/vm.vhdx",
                List.of("/srv/a/vm_1.avhdx", "/srv/a/vm.vhdx"),
                "/srv/b/vm",
                source,
                TransplantMode.MOVE,
                0,
                0,
                null);
    }

    private TransplantJob published(Optional<CapabilitySigner> signer, TransplantJob job) throws Exception {
        new JobPublisher(log, new Topics("chainmerge"), codec, signer)
                .publish(job)
                .get();
        return (TransplantJob) codec.readJob(
                producer.history().get(producer.history().size() - 1).value());
    }

    @Test
    void aTransplantBetweenWorkersIsPublishedWithACapabilitySignedForItsSourceFromNow() throws Exception {
        Instant before = Instant.now();
        TransplantJob sent = published(
                Optional.of(new CapabilitySigner(keys.getPrivate(), Duration.ofMinutes(30), Clock.systemUTC(), json)),
                transplant(new TransplantSource("pool-a", "storage-a", "https://storage-a:8081")));
        TransferCapability capability =
                new CapabilityVerifier(List.of(keys.getPublic()), Clock.systemUTC(), json).verify(sent.capability());
        assertThat(capability.jobId()).isEqualTo("c-1-r-move");
        assertThat(capability.sourceWorker()).isEqualTo("storage-a");
        assertThat(capability.sourceUrl()).isEqualTo("https://storage-a:8081");
        assertThat(capability.files()).isEqualTo(sent.disks());
        assertThat(capability.mayDelete()).isTrue();
        // From publication, not from the job's issuedAt (planned earlier, maybe approved much later).
        assertThat(capability.expiresAt()).isAfterOrEqualTo(before.plus(Duration.ofMinutes(30)));
    }

    @Test
    void aTransplantOnOneWorkerAndAnUnsignedCoordinatorsJobsCarryNoCapability() throws Exception {
        CapabilitySigner signer =
                new CapabilitySigner(keys.getPrivate(), Duration.ofMinutes(30), Clock.systemUTC(), json);
        assertThat(published(Optional.of(signer), transplant(null)).capability())
                .isNull();
        assertThat(published(
                                Optional.empty(),
                                transplant(new TransplantSource("pool-a", "storage-a", "https://storage-a:8081")))
                        .capability())
                .isNull();
    }
}
