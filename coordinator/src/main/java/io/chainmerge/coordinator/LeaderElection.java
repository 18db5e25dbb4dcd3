package io.chainmerge.coordinator;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Elects the coordinator group's leader through Kafka's own group membership: every replica joins one
 * consumer group on the one-partition leader topic, and the member that holds partition 0 leads. The
 * cooperative sticky assignor never takes the partition from a live holder when a standby joins; the
 * group hands it to a standby only when the holder leaves or misses its session timeout (killed, paused,
 * cut off). A leader that loses the partition ends this loop by throwing, so the process exits and starts
 * again as a standby; whatever it still tries to write is fenced by its successor's transactions.
 */
final class LeaderElection implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderElection.class);
    private static final Duration POLL = Duration.ofMillis(100);

    private final Consumer<String, byte[]> consumer;
    private final TopicPartition leaderPartition;
    private final CompletableFuture<Void> elected = new CompletableFuture<>();
    private volatile boolean holding;
    private volatile String lost;
    private volatile boolean running = true;

    LeaderElection(Consumer<String, byte[]> consumer, String leaderTopic) {
        this.consumer = consumer;
        this.leaderPartition = new TopicPartition(leaderTopic, 0);
    }

    /** Completes when this replica is elected, at once or after the leader it stood by for is gone. */
    CompletableFuture<Void> elected() {
        return elected;
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(leaderPartition.topic()), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    if (partitions.contains(leaderPartition) && !holding) {
                        holding = true;
                        elected.complete(null);
                    }
                }

                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    if (holding && partitions.contains(leaderPartition) && running) {
                        lost = "the leader partition was given to another coordinator";
                    }
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    if (holding && partitions.contains(leaderPartition) && running) {
                        lost = "the group dropped this coordinator (paused, or cut off from the broker, for longer "
                                + "than leader.session-timeout)";
                    }
                }
            });
            while (running) {
                try {
                    consumer.poll(POLL); // nothing is read: the records are the announcements StateFollower reads
                } catch (WakeupException e) {
                    continue;
                }
                if (lost != null) {
                    LOG.error("this coordinator no longer leads: {}; it stops, to start again as a standby", lost);
                    throw new IllegalStateException("leadership lost: " + lost);
                }
            }
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    void stop() {
        running = false;
        consumer.wakeup();
    }
}
