package io.chainmerge.worker;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's one Kafka poll loop, on its own thread. Invariant 7 lives here:
 *
 * <ul>
 *   <li>every polled record is handed to the job executions at once, and its partition is
 *       <b>paused</b> while any of its records is unfinished; the loop <b>keeps polling</b> (paused
 *       partitions return nothing), so an hour-long merge never exceeds {@code max.poll.interval.ms}
 *       and the worker never leaves its group;
 *   <li>an offset is <b>committed only past records whose handling is complete</b>: the job's result
 *       (or the dead letter) acknowledged by the broker. A record that a stop interrupted is never
 *       committed past, so it is delivered again, to this worker or another of the pool;
 *   <li>a partition is <b>resumed</b> once all its records are complete;
 *   <li>a record whose handling <b>failed</b> (its result could not be journaled or published) is
 *       polled again after {@link #RETRY_DELAY}: the partition is rewound to it and stays paused
 *       until then, so one failure neither blocks the partition for good nor spins.
 * </ul>
 */
final class JobConsumer implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(JobConsumer.class);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);
    static final Duration RETRY_DELAY = Duration.ofSeconds(5);

    private final Consumer<String, byte[]> consumer;
    private final String topic;
    private final Function<ConsumerRecord<String, byte[]>, CompletableFuture<?>> handler;
    private final Duration retryDelay;
    private final Map<TopicPartition, Long> retryAtNanos = new HashMap<>();
    private final Map<TopicPartition, Deque<Pending>> pending = new HashMap<>();
    private final Map<TopicPartition, OffsetAndMetadata> toCommit = new HashMap<>();
    private volatile boolean running = true;
    private volatile boolean polled;

    private record Pending(long offset, CompletableFuture<?> done) {}

    JobConsumer(
            Consumer<String, byte[]> consumer,
            String topic,
            Function<ConsumerRecord<String, byte[]>, CompletableFuture<?>> handler) {
        this(consumer, topic, handler, RETRY_DELAY);
    }

    JobConsumer(
            Consumer<String, byte[]> consumer,
            String topic,
            Function<ConsumerRecord<String, byte[]>, CompletableFuture<?>> handler,
            Duration retryDelay) {
        this.consumer = consumer;
        this.topic = topic;
        this.handler = handler;
        this.retryDelay = retryDelay;
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(topic), new Rebalance());
            while (running) {
                ConsumerRecords<String, byte[]> records;
                try {
                    records = consumer.poll(POLL);
                    polled = true;
                } catch (WakeupException e) {
                    // A job completed (or a stop began): collect, resume and commit now.
                    records = ConsumerRecords.empty();
                }
                for (TopicPartition partition : records.partitions()) {
                    Deque<Pending> queue = pending.computeIfAbsent(partition, p -> new ArrayDeque<>());
                    for (ConsumerRecord<String, byte[]> record : records.records(partition)) {
                        CompletableFuture<?> done = handler.apply(record);
                        // Wake the poll so the partition resumes and its offset is committed at once, not a poll
                        // timeout later.
                        done.whenComplete((r, e) -> consumer.wakeup());
                        queue.add(new Pending(record.offset(), done));
                    }
                }
                collectFinished(pending.keySet());
                rewindFailed();
                pauseBusyResumeIdle();
                commit();
            }
        } finally {
            collectFinished(pending.keySet());
            commit();
            // close() leaves the group at once, so the pool's other workers take the partitions over.
            consumer.close(Duration.ofSeconds(10));
        }
    }

    /** Whether the loop has polled successfully at least once (it is in its group). */
    boolean hasPolled() {
        return polled;
    }

    /** Ends the loop: it commits what is complete and leaves the group. Call {@link Thread#join} after. */
    void stop() {
        running = false;
        consumer.wakeup();
    }

    /** Moves complete records at the head of each partition's queue to the offsets to commit. */
    private void collectFinished(Collection<TopicPartition> partitions) {
        for (TopicPartition partition : partitions) {
            Deque<Pending> queue = pending.get(partition);
            while (queue != null && !queue.isEmpty() && isComplete(queue.peek().done())) {
                toCommit.put(partition, new OffsetAndMetadata(queue.poll().offset() + 1));
            }
        }
    }

    private static boolean isComplete(CompletableFuture<?> done) {
        return done.isDone() && !done.isCompletedExceptionally();
    }

    /**
     * Rewinds each partition whose first unfinished record failed, so the next poll after the retry
     * delay delivers it (and the records after it) again. Records after it that are still running
     * are recognised by their job id when they come back.
     */
    private void rewindFailed() {
        for (Map.Entry<TopicPartition, Deque<Pending>> entry : pending.entrySet()) {
            Pending head = entry.getValue().peek();
            if (head != null && head.done().isCompletedExceptionally()) {
                consumer.seek(entry.getKey(), head.offset());
                entry.getValue().clear();
                retryAtNanos.put(entry.getKey(), System.nanoTime() + retryDelay.toNanos());
            }
        }
        retryAtNanos.values().removeIf(at -> at - System.nanoTime() <= 0);
    }

    private void pauseBusyResumeIdle() {
        Set<TopicPartition> assigned = consumer.assignment();
        Set<TopicPartition> busy = new HashSet<>();
        Set<TopicPartition> idle = new HashSet<>();
        for (TopicPartition partition : assigned) {
            Deque<Pending> queue = pending.get(partition);
            boolean waiting = (queue != null && !queue.isEmpty()) || retryAtNanos.containsKey(partition);
            (waiting ? busy : idle).add(partition);
        }
        busy.removeAll(consumer.paused());
        idle.retainAll(consumer.paused());
        if (!busy.isEmpty()) {
            consumer.pause(busy);
        }
        if (!idle.isEmpty()) {
            consumer.resume(idle);
        }
    }

    private void commit() {
        if (toCommit.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(new HashMap<>(toCommit), COMMIT_TIMEOUT);
            toCommit.clear();
        } catch (WakeupException e) {
            commit(); // a stop woke the loop mid-commit: the offsets still go in
        } catch (KafkaException e) {
            // The broker may be away for a while: keep the offsets and try again after the next poll.
            LOG.warn("committing {} failed, will retry: {}", toCommit, e.toString());
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            collectFinished(partitions);
            commit();
            forget(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            // Another worker owns them already: committing would fail; their jobs' journals answer redeliveries.
            forget(partitions);
        }

        private void forget(Collection<TopicPartition> partitions) {
            partitions.forEach(p -> {
                pending.remove(p);
                toCommit.remove(p);
                retryAtNanos.remove(p);
            });
        }
    }
}
