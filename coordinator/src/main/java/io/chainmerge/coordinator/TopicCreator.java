package io.chainmerge.coordinator;

import io.chainmerge.common.kafka.KafkaClients;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.admin.Admin;

/** Creates a pool's job topic before the first job goes to it, off the campaigns' thread. */
final class TopicCreator implements AutoCloseable {
    private final Admin admin;
    private final CoordinatorConfig config;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> new Thread(r, "chainmerge-topics"));

    TopicCreator(KafkaClients kafka, CoordinatorConfig config) {
        this.admin = Admin.create(kafka.admin("chainmerge-coordinator-topics"));
        this.config = config;
    }

    CompletableFuture<Void> ensurePool(String pool) {
        return CompletableFuture.runAsync(
                () -> {
                    try {
                        KafkaClients.ensureTopics(
                                admin,
                                List.of(config.topics().jobsSpec(pool)),
                                config.topicPartitions(),
                                config.topicReplication());
                    } catch (Exception e) {
                        throw new IllegalStateException(
                                "cannot create the job topic of pool " + pool + ": " + e.getMessage(), e);
                    }
                },
                thread);
    }

    @Override
    public void close() {
        thread.shutdown();
        admin.close();
    }
}
