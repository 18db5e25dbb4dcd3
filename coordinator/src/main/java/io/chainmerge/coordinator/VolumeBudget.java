package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.CampaignJob;
import io.chainmerge.common.message.JobKind;
import io.chainmerge.common.message.MergeJob;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BinaryOperator;

/**
 * How many merges and transplants run at once on one volume, across every campaign, pool and worker that
 * reaches it ({@code limits.per-volume}). A campaign's own {@code perVolume} counts its jobs only, and a
 * worker's {@code concurrency.per-volume} its own; a volume that several hosts share, or two campaigns at
 * once, would carry their sum.
 *
 * <p>A volume is known by its pool and root path, and, once a space check has reported it, by its own id
 * ({@code .chainmerge/volume-id}), which two pools that mount it at different paths share. A job counts
 * against every key it has. Dry runs read a few headers and do not count. O(1) per check, take and release;
 * rebuilt from the jobs out when a replica takes over. Runs on the campaigns' thread only.
 */
final class VolumeBudget {
    /** A volume root as one pool's workers reach it. */
    record PoolVolume(String pool, String root) {}

    /** A volume by its own id, whichever pool or path reaches it. */
    record SharedVolume(String volumeId) {}

    private final int budget;
    /** The id a host's volume root reported in its latest space check, or null. */
    private final BinaryOperator<String> volumeIdOf;

    private final Map<Object, Set<String>> running = new HashMap<>();
    private final Map<String, List<Object>> keysOfJob = new HashMap<>();

    /**
     * @param budget jobs at once per volume; 0 for none beyond the campaigns' own limits
     * @param volumeIdOf {@code (host, volume root) -> volume id}, null when unknown
     */
    VolumeBudget(int budget, BinaryOperator<String> volumeIdOf) {
        if (budget < 0) {
            throw new IllegalArgumentException("a volume budget cannot be negative");
        }
        this.budget = budget;
        this.volumeIdOf = volumeIdOf;
    }

    /** Whether {@code job} takes a place in its volume's budget: a merge (not a dry run) or a transplant. */
    static boolean counts(CampaignJob job) {
        return job.volume() != null
                && (job.job().kind() == JobKind.TRANSPLANT
                        || (job.job().kind() == JobKind.MERGE && !((MergeJob) job.job()).dryRun()));
    }

    /** Why {@code job} must wait for its volume, or null when there is a place for it. */
    String fullFor(CampaignJob job) {
        if (budget == 0) {
            return null;
        }
        for (Object key : keysOf(job)) {
            Set<String> jobs = running.getOrDefault(key, Set.of());
            int others = jobs.size() - (jobs.contains(job.jobId()) ? 1 : 0);
            if (others >= budget) {
                return "its volume runs %d merges or transplants already (limits.per-volume %d)"
                        .formatted(others, budget);
            }
        }
        return null;
    }

    /** Counts {@code job} against its volume; a no-op when it is counted already. */
    void take(CampaignJob job) {
        List<Object> keys = keysOf(job);
        keys.forEach(key -> running.computeIfAbsent(key, k -> new HashSet<>()).add(job.jobId()));
        keysOfJob.merge(job.jobId(), keys, (held, more) -> {
            List<Object> all = new ArrayList<>(held);
            more.stream().filter(k -> !held.contains(k)).forEach(all::add);
            return all;
        });
    }

    /** Frees {@code jobId}'s place, if it holds one. */
    void release(String jobId) {
        List<Object> keys = keysOfJob.remove(jobId);
        if (keys == null) {
            return;
        }
        for (Object key : keys) {
            Set<String> jobs = running.get(key);
            if (jobs != null && jobs.remove(jobId) && jobs.isEmpty()) {
                running.remove(key);
            }
        }
    }

    int running() {
        return keysOfJob.size();
    }

    private List<Object> keysOf(CampaignJob job) {
        List<Object> keys = new ArrayList<>(2);
        keys.add(new PoolVolume(job.job().pool(), job.volume()));
        String volumeId = job.host() == null ? null : volumeIdOf.apply(job.host(), job.volume());
        if (volumeId != null) {
            keys.add(new SharedVolume(volumeId));
        }
        return keys;
    }
}
