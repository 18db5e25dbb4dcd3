package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.CampaignEvent;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.MalformedMessageException;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.topic.Topics;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every replica's copy of the group's state: follows {@code chainmerge.campaigns} ({@code read_committed},
 * so never a record its writer's transaction aborted) from its beginning, handing each batch of events to
 * the campaigns, and the leader topic's announcements to {@link Leadership}. A standby answers reads from
 * it and stays as current as the last poll, so a takeover replays nothing: the new leader, once it has
 * fenced its predecessor, reads on to the end of the topic as it stands then and stops following.
 */
final class StateFollower implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(StateFollower.class);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration APPLY_TIMEOUT = Duration.ofSeconds(60);

    private final Consumer<String, byte[]> consumer;
    private final Topics topics;
    private final MessageCodec codec;
    private final JsonCodec json;
    private final Function<List<CampaignEvent>, CompletableFuture<Void>> apply;
    private final Leadership leadership;
    private final CompletableFuture<Long> caughtUp = new CompletableFuture<>();
    private volatile boolean finishing;
    private volatile boolean running = true;
    private long applied;

    StateFollower(
            Consumer<String, byte[]> consumer,
            Topics topics,
            MessageCodec codec,
            JsonCodec json,
            Function<List<CampaignEvent>, CompletableFuture<Void>> apply,
            Leadership leadership) {
        this.consumer = consumer;
        this.topics = topics;
        this.codec = codec;
        this.json = json;
        this.apply = apply;
        this.leadership = leadership;
    }

    @Override
    public void run() {
        try {
            List<TopicPartition> state = partitions(topics.campaigns());
            List<TopicPartition> all = new ArrayList<>(state);
            all.add(new TopicPartition(topics.leader(), 0));
            consumer.assign(all);
            consumer.seekToBeginning(all);
            Map<TopicPartition, Long> end = null;
            while (running) {
                if (finishing && end == null) {
                    // Asked after the fencing: no earlier leader can commit past these offsets any more.
                    end = consumer.endOffsets(state, Duration.ofSeconds(30));
                }
                if (end != null && reached(end)) {
                    LOG.info("followed {} campaign events to the end of {}", applied, topics.campaigns());
                    caughtUp.complete(applied);
                    return;
                }
                List<CampaignEvent> events = new ArrayList<>();
                try {
                    for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
                        take(record, events);
                    }
                } catch (WakeupException e) {
                    continue;
                }
                if (!events.isEmpty()) {
                    apply.apply(events).get(APPLY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    applied += events.size();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            caughtUp.completeExceptionally(e);
        } catch (Exception e) {
            caughtUp.completeExceptionally(e);
            throw new IllegalStateException("following " + topics.campaigns() + " failed: " + e, e);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private void take(ConsumerRecord<String, byte[]> record, List<CampaignEvent> events) {
        if (record.value() == null) {
            return; // a tombstone: nothing of that entity is kept
        }
        if (record.topic().equals(topics.leader())) {
            try {
                leadership.announced(json.mapper().readValue(record.value(), Leadership.Leader.class));
            } catch (IOException e) {
                LOG.warn(
                        "skipping an unreadable leader announcement at offset {}: {}", record.offset(), e.getMessage());
            }
            return;
        }
        try {
            events.add(codec.read(record.value(), CampaignEvent.class));
        } catch (MalformedMessageException e) {
            LOG.warn(
                    "skipping an unreadable campaign event at {}@{}: {}",
                    record.partition(),
                    record.offset(),
                    e.getMessage());
        }
    }

    private boolean reached(Map<TopicPartition, Long> end) {
        return end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
    }

    private List<TopicPartition> partitions(String topic) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
            partitions.add(new TopicPartition(topic, info.partition()));
        }
        return partitions;
    }

    /**
     * Reads on to the end of the state topic as it stands now, applies it, and stops following; completes
     * with the number of events followed in all. Call it only once every earlier leader is fenced.
     */
    CompletableFuture<Long> finish() {
        finishing = true; // seen within one poll; a wakeup here could land in endOffsets instead
        return caughtUp;
    }

    void stop() {
        running = false;
        consumer.wakeup();
    }
}
