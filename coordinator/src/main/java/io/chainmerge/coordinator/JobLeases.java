package io.chainmerge.coordinator;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The leases of the jobs out at their pools, ordered by expiry, so that finding stalled jobs costs what
 * has expired and not what is in flight. A lease runs out when, for the stall timeout, there was no sign of
 * life: no progress of its own (a worker reports every job it holds, running or waiting for a slot), and no
 * progress of a job ahead of it on the same partition of its pool's topic (the worker pauses a partition
 * while it works through it, so later records of that partition wait in Kafka, unseen by any worker, until
 * the job ahead ends).
 *
 * <p>A sign of life only notes its time (O(1)); a lease whose deadline passes is looked at once, and either
 * moved on to its last sign of life plus the timeout or handed out as expired. So a tick costs
 * O(k log n) for the k leases whose deadline passed, n being the jobs in flight, and a live job comes up at
 * most once per stall timeout. Not thread-safe: the campaigns' thread owns it.
 */
final class JobLeases {
    /** Where a job's record was written: its pool's topic, the partition and the offset. */
    record Placement(String topic, int partition, long offset) {}

    /**
     * A lease that ran out. It stays held, due again after another timeout, until the caller publishes the
     * job again ({@link #hold}) or gives it up ({@link #release}), so a re-publish that fails is tried again.
     *
     * @param attempt the attempt that stalled (1 for the first publish)
     * @param lastSignOfLife the last progress of the job seen by this coordinator; null if none
     * @param lastWorker the worker that sent it; null if none
     */
    record Expired(String campaignId, String jobId, int attempt, Instant lastSignOfLife, String lastWorker) {}

    private record PartitionKey(String topic, int partition) {}

    /** The latest progress of a job on a partition: jobs placed after {@code offset} wait behind it. */
    private record PartitionLife(Instant at, long offset) {}

    private static final class Lease {
        final String campaignId;
        final String jobId;
        int attempt;
        Instant since;
        Instant deadline;
        Instant lastSignOfLife;
        String lastWorker;
        Placement placement;

        Lease(String campaignId, String jobId) {
            this.campaignId = campaignId;
            this.jobId = jobId;
        }
    }

    private final Duration timeout;
    private final Map<String, Lease> byJob = new HashMap<>();
    private final TreeSet<Lease> byDeadline =
            new TreeSet<>(Comparator.comparing((Lease l) -> l.deadline).thenComparing(l -> l.jobId));
    private final Map<Placement, String> byPlacement = new HashMap<>();
    private final Map<PartitionKey, PartitionLife> partitions = new HashMap<>();

    JobLeases(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("a stall timeout must be positive: " + timeout);
        }
        this.timeout = timeout;
    }

    /**
     * Holds a lease on {@code attempt} of a job sent at {@code now}: it runs out after the timeout unless
     * the job shows life. Holding the attempt already held changes nothing (an event recorded again).
     */
    void hold(String campaignId, String jobId, int attempt, Instant now) {
        Lease lease = byJob.get(jobId);
        if (lease != null && lease.attempt == attempt) {
            return;
        }
        if (lease == null) {
            lease = new Lease(campaignId, jobId);
            byJob.put(jobId, lease);
        } else {
            byDeadline.remove(lease);
            unplace(lease);
        }
        lease.attempt = attempt;
        lease.since = now;
        schedule(lease, now.plus(timeout));
    }

    /** Notes where the held attempt of {@code jobId} was written. */
    void placed(String jobId, Placement placement) {
        Lease lease = byJob.get(jobId);
        if (lease == null) {
            return;
        }
        unplace(lease);
        lease.placement = placement;
        byPlacement.put(placement, jobId);
    }

    /** A progress report of {@code jobId} from {@code worker}, received at {@code now}. */
    void signOfLife(String jobId, String worker, Instant now) {
        Lease lease = byJob.get(jobId);
        if (lease == null) {
            return;
        }
        lease.lastSignOfLife = now;
        lease.lastWorker = worker;
        if (lease.placement != null) {
            partitions.put(
                    new PartitionKey(lease.placement.topic(), lease.placement.partition()),
                    new PartitionLife(now, lease.placement.offset()));
        }
    }

    /** The job has a result (or is given up): no lease any more. */
    void release(String jobId) {
        Lease lease = byJob.remove(jobId);
        if (lease != null) {
            byDeadline.remove(lease);
            unplace(lease);
        }
    }

    /**
     * The leases that ran out by {@code now}, each due again a timeout later; leases whose job (or a job
     * ahead of it) showed life since are moved on instead.
     */
    List<Expired> expired(Instant now) {
        List<Expired> out = new ArrayList<>();
        List<Lease> due = new ArrayList<>();
        while (!byDeadline.isEmpty() && !byDeadline.first().deadline.isAfter(now)) {
            due.add(byDeadline.pollFirst());
        }
        for (Lease lease : due) {
            Instant alive = lastLife(lease);
            Instant deadline = alive.plus(timeout);
            if (deadline.isAfter(now)) {
                schedule(lease, deadline);
            } else {
                out.add(new Expired(
                        lease.campaignId, lease.jobId, lease.attempt, lease.lastSignOfLife, lease.lastWorker));
                schedule(lease, now.plus(timeout));
            }
        }
        return out;
    }

    /** The job whose held attempt was written at {@code placement}, if one is in flight. */
    Optional<String> jobAt(Placement placement) {
        return Optional.ofNullable(byPlacement.get(placement));
    }

    /** The campaign of an in-flight job. */
    Optional<String> campaignOf(String jobId) {
        Lease lease = byJob.get(jobId);
        return lease == null ? Optional.empty() : Optional.of(lease.campaignId);
    }

    /** Jobs in flight. */
    int size() {
        return byJob.size();
    }

    private Instant lastLife(Lease lease) {
        Instant alive = lease.since;
        if (lease.lastSignOfLife != null && lease.lastSignOfLife.isAfter(alive)) {
            alive = lease.lastSignOfLife;
        }
        if (lease.placement != null) {
            PartitionLife ahead =
                    partitions.get(new PartitionKey(lease.placement.topic(), lease.placement.partition()));
            if (ahead != null
                    && ahead.offset() < lease.placement.offset()
                    && ahead.at().isAfter(alive)) {
                alive = ahead.at();
            }
        }
        return alive;
    }

    private void schedule(Lease lease, Instant deadline) {
        lease.deadline = deadline;
        byDeadline.add(lease);
    }

    private void unplace(Lease lease) {
        if (lease.placement != null) {
            byPlacement.remove(lease.placement, lease.jobId);
            lease.placement = null;
        }
    }
}
