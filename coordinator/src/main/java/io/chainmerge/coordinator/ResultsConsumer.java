package io.chainmerge.coordinator;

import io.chainmerge.common.message.JobProgress;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MalformedMessageException;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.topic.Topics;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes results and progress in, through a {@link DurableBatchLoop}: a batch's offsets are committed
 * only after every result in it is durably recorded in its campaign; when recording fails the batch is
 * read again (recording is idempotent by job id). Progress is kept in memory
 *
 * only: a lost progress report is replaced by the next one two seconds later.
 */
final class ResultsConsumer {
    private static final Logger LOG = LoggerFactory.getLogger(ResultsConsumer.class);

    private final Topics topics;
    private final MessageCodec codec;
    private final Campaigns campaigns;
    private final DurableBatchLoop loop;

    ResultsConsumer(Consumer<String, byte[]> consumer, Topics topics, MessageCodec codec, Campaigns campaigns) {
        this.topics = topics;
        this.codec = codec;
        this.campaigns = campaigns;
        this.loop = new DurableBatchLoop("results", consumer, List.of(topics.results(), topics.progress()), this::take);
    }

    /** The poll loop, for the thread that runs it. */
    Runnable loop() {
        return loop;
    }

    private CompletableFuture<?> take(ConsumerRecord<String, byte[]> record) {
        try {
            if (record.topic().equals(topics.results())) {
                return campaigns.onResult(codec.read(record.value(), JobResult.class));
            }
            campaigns.onProgress(codec.read(record.value(), JobProgress.class));
        } catch (MalformedMessageException e) {
            LOG.warn("ignoring an unreadable record on {}: {}", record.topic(), e.getMessage());
        }
        return CompletableFuture.completedFuture(null);
    }

    void stop() {
        loop.stop();
    }
}
