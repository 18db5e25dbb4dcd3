package io.chainmerge.coordinator;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the leading coordinator writes (campaign events, jobs, backup notifications, audit records)
 * goes through one transactional producer. Records sent within the same few milliseconds commit together,
 * and a send completes only once its transaction has committed, so nothing acts on a record that could
 * still be aborted.
 *
 * <p>The producer's {@code transactional.id} belongs to the coordinator group, not to one replica: when a
 * new leader {@link #open opens} the log, the broker bumps the id's epoch, aborts whatever the previous
 * leader left open and fences it. A zombie leader (paused past its lease, then woken) cannot commit a
 * single record after that; its next send fails, {@code onFenced} is told, and the process ends.
 */
final class TransactionalLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionalLog.class);
    /** The header every record carries: which coordinator replica wrote it (audits, and the fencing tests, read it). */
    static final String WRITER_HEADER = "chainmerge-coordinator";
    /** Records per transaction at most: a burst of sends becomes a few transactions, not one huge one. */
    private static final int MAX_BATCH = 500;

    private static final Duration WAIT_FOR_WORK = Duration.ofMillis(100);

    /** A send made when this replica does not lead (or no longer does): nothing was written. */
    static final class NotLeadingException extends IllegalStateException {
        NotLeadingException(String message) {
            super(message);
        }
    }

    private record Pending(ProducerRecord<String, byte[]> record, CompletableFuture<RecordMetadata> done) {}

    private final Function<Map<String, Object>, Producer<String, byte[]>> producers;
    private final Map<String, Object> settings;
    private final byte[] writer;
    private final Executor callbacks;
    private final Consumer<Throwable> onFenced;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private volatile Producer<String, byte[]> producer;
    private volatile boolean open;
    private volatile boolean closing;
    private volatile Throwable fenced;
    private Thread thread;

    /**
     * @param producerSettings the coordinator's producer settings; {@code transactional.id} among them
     * @param writer this replica's name, written into every record's {@link #WRITER_HEADER}
     * @param callbacks where sends complete (never the transaction thread, so follow-ups cannot stall it)
     * @param onFenced told once when another leader fenced this one, or the producer failed for good
     */
    TransactionalLog(
            Map<String, Object> producerSettings, String writer, Executor callbacks, Consumer<Throwable> onFenced) {
        this(KafkaProducer::new, producerSettings, writer, callbacks, onFenced);
    }

    TransactionalLog(
            Function<Map<String, Object>, Producer<String, byte[]>> producers,
            Map<String, Object> producerSettings,
            String writer,
            Executor callbacks,
            Consumer<Throwable> onFenced) {
        if (!(producerSettings.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG) instanceof String id) || id.isBlank()) {
            throw new IllegalArgumentException("a transactional log needs transactional.id");
        }
        this.producers = producers;
        this.settings = Map.copyOf(producerSettings);
        this.writer = writer.getBytes(StandardCharsets.UTF_8);
        this.callbacks = callbacks;
        this.onFenced = onFenced;
    }

    /** The transactional id every replica of the group shares. */
    String transactionalId() {
        return (String) settings.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
    }

    /**
     * Takes the group's transactional id over: every earlier holder is fenced and whatever it left open is
     * aborted. Blocks until the broker has done it (at most the producer's {@code max.block.ms}).
     */
    synchronized void open() {
        if (open || closing) {
            throw new IllegalStateException("the transactional log is " + (open ? "open already" : "closed"));
        }
        Producer<String, byte[]> created = producers.apply(settings);
        try {
            created.initTransactions();
        } catch (RuntimeException e) {
            created.close(Duration.ZERO);
            throw e;
        }
        producer = created;
        open = true;
        thread = new Thread(this::commitLoop, "chainmerge-transactions");
        thread.start();
    }

    boolean isOpen() {
        return open && fenced == null;
    }

    /**
     * Takes no more sends, for {@code reason}: a replica that lost the lead or died writes nothing more,
     * whether or not its successor has fenced it yet. What is being committed still commits or aborts.
     */
    void stopWriting(String reason) {
        if (fenced == null) {
            fenced = new NotLeadingException(reason);
        }
    }

    /**
     * Queues {@code record} for the next transaction; completes on {@code callbacks} with where it was
     * written once that transaction has committed, or fails when it was aborted (nothing of it is visible to
     * {@code read_committed} readers then) or when this replica does not lead.
     */
    CompletableFuture<RecordMetadata> send(ProducerRecord<String, byte[]> record) {
        if (fenced != null) {
            return CompletableFuture.failedFuture(
                    new NotLeadingException("this coordinator no longer leads: " + fenced.getMessage()));
        }
        if (!open || closing) {
            return CompletableFuture.failedFuture(new NotLeadingException("this coordinator does not lead"));
        }
        record.headers().add(WRITER_HEADER, writer);
        Pending pending = new Pending(record, new CompletableFuture<>());
        queue.add(pending);
        CompletableFuture<RecordMetadata> answer = new CompletableFuture<>();
        pending.done()
                .whenComplete((metadata, error) -> callbacks.execute(() -> {
                    if (error != null) {
                        answer.completeExceptionally(error);
                    } else {
                        answer.complete(metadata);
                    }
                }));
        return answer;
    }

    private void commitLoop() {
        List<Pending> batch = new ArrayList<>();
        while (!closing || !queue.isEmpty()) {
            try {
                Pending first = queue.poll(WAIT_FOR_WORK.toMillis(), TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                if (fenced != null) {
                    failAll(batch, fenced);
                    batch.clear();
                    continue;
                }
                KafkaException aborted = commit(batch);
                if (aborted != null && batch.size() > 1 && fenced == null) {
                    // One bad record (too large, say) aborts its whole transaction: alone, each of the others commits.
                    for (Pending pending : batch) {
                        KafkaException alone = fenced != null ? null : commit(List.of(pending));
                        if (fenced != null) {
                            failAll(List.of(pending), fenced);
                        } else if (alone != null) {
                            failAll(List.of(pending), alone);
                        }
                    }
                } else if (aborted != null) {
                    failAll(batch, fenced != null ? fenced : aborted);
                }
                batch.clear();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failAll(batch, e);
                break;
            }
        }
        List<Pending> left = new ArrayList<>();
        queue.drainTo(left);
        failAll(left, new NotLeadingException("the coordinator is stopping"));
    }

    /**
     * Commits {@code batch} as one transaction and completes its sends; when it was aborted (or this producer
     * is fenced) returns why and leaves the sends to the caller, which may try them again one by one.
     */
    private KafkaException commit(List<Pending> batch) {
        List<Future<RecordMetadata>> sent = new ArrayList<>(batch.size());
        try {
            producer.beginTransaction();
            for (Pending pending : batch) {
                sent.add(producer.send(pending.record()));
            }
            commitUntilDone();
        } catch (KafkaException e) {
            if (fatal(e)) {
                fence(e);
                return e;
            }
            LOG.warn("a transaction of {} records was aborted: {}", batch.size(), e.toString());
            try {
                producer.abortTransaction();
            } catch (KafkaException abortFailed) {
                fence(abortFailed);
            }
            return e;
        }
        for (int i = 0; i < batch.size(); i++) {
            try {
                batch.get(i).done().complete(sent.get(i).get());
            } catch (ExecutionException e) {
                batch.get(i).done().completeExceptionally(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                batch.get(i).done().completeExceptionally(e);
            }
        }
        return null;
    }

    /** A commit that timed out (the broker away for a while) is asked again: it completes, or aborts, never half. */
    private void commitUntilDone() {
        while (true) {
            try {
                producer.commitTransaction();
                return;
            } catch (TimeoutException e) {
                if (closing) {
                    throw e;
                }
                LOG.warn("committing a transaction timed out; asking again: {}", e.getMessage());
            }
        }
    }

    /** Errors after which this producer can write nothing more: another leader fenced it, or it may not write. */
    private static boolean fatal(KafkaException e) {
        return e instanceof ProducerFencedException
                || e instanceof InvalidProducerEpochException // an older epoch than the broker's: another took the id
                || e instanceof OutOfOrderSequenceException
                || e instanceof AuthorizationException
                || e instanceof UnsupportedVersionException
                || e.getCause() instanceof ProducerFencedException;
    }

    private void fence(Throwable cause) {
        if (fenced != null) {
            return;
        }
        fenced = cause;
        LOG.error(
                "coordinator transactions under {} can no longer commit ({}); another coordinator leads, or the "
                        + "producer failed for good",
                transactionalId(),
                cause.toString());
        onFenced.accept(cause);
    }

    private static void failAll(List<Pending> batch, Throwable cause) {
        for (Pending pending : batch) {
            pending.done().completeExceptionally(cause);
        }
    }

    /** Commits what was sent before, then closes the producer (a leader that stops hands over cleanly). */
    @Override
    public void close() {
        Thread committing;
        synchronized (this) {
            closing = true;
            committing = thread;
        }
        if (committing != null) {
            try {
                committing.join(Duration.ofSeconds(15).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Producer<String, byte[]> current = producer;
        if (current != null) {
            current.close(Duration.ofSeconds(10));
        }
    }
}
