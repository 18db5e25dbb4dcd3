package io.chainmerge.broker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A test's view of topics: publishes raw records (as a coordinator, or as a broken producer would)
 * and reads a topic from its beginning in a fresh consumer group, so tests do not share offsets.
 */
public final class TopicProbe implements AutoCloseable {
    private final Map<String, Object> client;
    private final KafkaProducer<String, byte[]> producer;

    public TopicProbe(String bootstrap) {
        this(Map.of("bootstrap.servers", bootstrap));
    }

    /** On a broker that wants its clients to log in: {@code client} has the bootstrap servers and the login. */
    public TopicProbe(Map<String, ?> client) {
        this.client = Map.copyOf(client);
        this.producer = new KafkaProducer<>(
                with("acks", "all", "linger.ms", 0), new StringSerializer(), new ByteArraySerializer());
    }

    /** The client's settings and {@code pairs} (key, value, key, value…). */
    private Map<String, Object> with(Object... pairs) {
        Map<String, Object> settings = new java.util.HashMap<>(client);
        for (int i = 0; i < pairs.length; i += 2) {
            settings.put((String) pairs[i], pairs[i + 1]);
        }
        return settings;
    }

    /** Publishes a record; returns the offset it was written at. */
    public long send(String topic, String key, byte[] value) {
        try {
            return producer.send(new ProducerRecord<>(topic, key, value)).get().offset();
        } catch (Exception e) {
            throw new IllegalStateException("cannot publish to " + topic, e);
        }
    }

    /** Publishes a record as it is, headers included. */
    public void send(ProducerRecord<String, byte[]> record) {
        try {
            producer.send(record).get();
        } catch (Exception e) {
            throw new IllegalStateException("cannot publish to " + record.topic(), e);
        }
    }

    /**
     * Every record on {@code topics} up to their ends as they stand now, as a {@code read_committed} reader (a
     * worker, a coordinator's follower) sees them: nothing an aborted transaction wrote, no commit markers.
     */
    public List<ConsumerRecord<String, byte[]>> committed(List<String> topics) {
        List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                with("isolation.level", "read_committed", "enable.auto.commit", false),
                new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : topics) {
                consumer.partitionsFor(topic, Duration.ofSeconds(10))
                        .forEach(info -> partitions.add(new TopicPartition(topic, info.partition())));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
            }
        }
        return seen;
    }

    /** A reader of {@code topic} from its beginning; call {@link Reader#poll()} to take what arrived. */
    public Reader reader(String topic) {
        return new Reader(topic);
    }

    public final class Reader implements AutoCloseable {
        private final KafkaConsumer<String, byte[]> consumer;
        private final List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();

        private Reader(String topic) {
            consumer = new KafkaConsumer<>(
                    with(
                            "group.id",
                            "probe-" + UUID.randomUUID(),
                            "auto.offset.reset",
                            "earliest",
                            "enable.auto.commit",
                            false),
                    new StringDeserializer(),
                    new ByteArrayDeserializer());
            consumer.subscribe(List.of(topic));
        }

        /** Everything read so far, after one more short poll. */
        public synchronized List<ConsumerRecord<String, byte[]>> poll() {
            for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                seen.add(record);
            }
            return List.copyOf(seen);
        }

        @Override
        public synchronized void close() {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
