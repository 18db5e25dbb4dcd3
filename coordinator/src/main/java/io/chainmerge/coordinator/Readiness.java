package io.chainmerge.coordinator;

import io.chainmerge.common.kafka.PollLoops;
import io.chainmerge.common.topic.Topics;
import io.chainmerge.common.topic.Topics.TopicSpec;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;

/**
 * Whether the coordinator can do its work: the broker answers and every topic it reads and writes
 * exists (a topic deleted under a running coordinator would silently stop campaigns). Blocking: call
 * it off the event loop.
 */
final class Readiness {
    private static final int TIMEOUT_MS = 2000;

    private final Admin admin;
    private final Topics topics;
    private final PollLoops loops;
    private final String security;
    private final Leadership leadership;

    /** @param security how the API guards itself, as the answer says it ({@code secure} or a warning) */
    Readiness(Admin admin, Topics topics, PollLoops loops, String security, Leadership leadership) {
        this.admin = admin;
        this.topics = topics;
        this.loops = loops;
        this.security = security;
        this.leadership = leadership;
    }

    /**
     * @param problem why it is not ready, or null when it is
     * @param security {@code secure}, or a warning that anyone who reaches the API may use it
     * @param role {@code leader}, {@code standby} (ready too: it answers reads) or {@code electing}
     * @param leader the replica that leads, as last announced, if any
     */
    record Status(
            boolean ready,
            boolean kafka,
            List<String> missingTopics,
            String problem,
            String security,
            String role,
            Leadership.Leader leader) {}

    private Status status(boolean ready, boolean kafka, List<String> missing, String problem) {
        return new Status(
                ready,
                kafka,
                missing,
                problem,
                security,
                leadership.role().wireName(),
                leadership.leader().orElse(null));
    }

    Status check() {
        Optional<String> death = loops.death();
        if (death.isPresent()) {
            return status(false, false, List.of(), death.get());
        }
        Set<String> existing;
        try {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs(TIMEOUT_MS))
                    .clusterId()
                    .get(TIMEOUT_MS + 1000, TimeUnit.MILLISECONDS);
            existing = admin.listTopics(new ListTopicsOptions().timeoutMs(TIMEOUT_MS))
                    .names()
                    .get(TIMEOUT_MS + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return status(false, false, List.of(), "interrupted while asking the broker");
        } catch (Exception e) {
            return status(false, false, List.of(), "the broker does not answer: " + e.getMessage());
        }
        List<String> missing = java.util.stream.Stream.concat(
                        topics.shared().stream().map(TopicSpec::name), java.util.stream.Stream.of(topics.leader()))
                .filter(name -> !existing.contains(name))
                .toList();
        return missing.isEmpty()
                ? status(true, true, missing, null)
                : status(false, true, missing, "topics missing: " + String.join(", ", missing));
    }
}
