package io.chainmerge.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.broker.TopicProbe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The poll loop against a real broker: a record whose handling fails is retried, not stuck or lost. */
class JobConsumerIT {
    private static final String TOPIC = "consumer-it";
    private static final String GROUP = "consumer-it-group";

    @TempDir
    Path brokerDir;

    @Test
    void aRecordWhoseHandlingFailedIsPolledAgainAndTheOnesAfterItAreNotCommittedFirst() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(brokerDir);
                Admin admin =
                        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
                TopicProbe probe = new TopicProbe(kafka.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get();
            probe.send(TOPIC, "chain", "first".getBytes(StandardCharsets.UTF_8));
            probe.send(TOPIC, "chain", "second".getBytes(StandardCharsets.UTF_8));

            List<String> handled = new CopyOnWriteArrayList<>();
            AtomicBoolean failedOnce = new AtomicBoolean();
            JobConsumer loop = new JobConsumer(
                    new KafkaConsumer<>(settings(kafka)),
                    TOPIC,
                    record -> {
                        String value = new String(record.value(), StandardCharsets.UTF_8);
                        handled.add(value);
                        if (value.equals("first") && failedOnce.compareAndSet(false, true)) {
                            return CompletableFuture.failedFuture(new IllegalStateException("journal unwritable"));
                        }
                        return CompletableFuture.completedFuture(null);
                    },
                    Duration.ofMillis(300));
            Thread thread = new Thread(loop, "consumer-it");
            thread.start();
            try {
                TopicPartition partition = new TopicPartition(TOPIC, 0);
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(GROUP)
                            .partitionsToOffsetAndMetadata()
                            .get();
                    assertThat(committed.get(partition)).isNotNull();
                    assertThat(committed.get(partition).offset()).isEqualTo(2);
                });
                // The failed record came back, and the one after it with it (its handling had already ended).
                assertThat(handled).containsSubsequence("first", "first");
                assertThat(handled.stream().filter("first"::equals).count()).isEqualTo(2);
                assertThat(Set.copyOf(handled)).containsExactlyInAnyOrder("first", "second");
                assertThat(handled.get(handled.size() - 1)).isEqualTo("second");
            } finally {
                loop.stop();
                thread.join();
            }
        }
    }

    private static Map<String, Object> settings(EmbeddedKafka kafka) {
        return Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG,
                GROUP,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class);
    }
}
