package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.CampaignJob;
import io.chainmerge.common.message.JobKind;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BinaryOperator;

/**
 * One job out per chain, whatever campaign or pool it belongs to. A fleet campaign, a backup system's
 * standing campaign and a space recovery can each plan a job for the same chain; the chain is leased to the
 * first one published, and the others stay planned until its result releases it. The volume's claims
 * (docs/merge-safety.md) would refuse the second writer anyway; the lease keeps it from being sent at all,
 * so it neither takes a worker's slot nor comes back {@code in-use}.
 *
 * <p>A chain is known by its pool and its root's path, the key its jobs are published under, and, once a
 * space check has reported the volume's own id, by that id and the root's path inside the volume: two
 * pools that mount one volume at different paths then share its chains' leases. A job holds every key it
 * has and waits while another job holds any of them. Taking, checking and releasing cost O(1); the state
 * is rebuilt from the jobs out when a replica takes over. Runs on the campaigns' thread only.
 */
final class ChainLeases {
    /** A chain of a pool; its jobs share this Kafka key, so they reach one partition in order. */
    record PoolChain(String pool, String root) {}

    /** A chain on a volume, whichever pool or mount path reaches it. */
    record VolumeChain(String volumeId, String rootInVolume) {}

    /** A job holding a chain. */
    record Holder(String campaignId, String jobId) {}

    /** The id a host's volume root reported in its latest space check, or null. */
    private final BinaryOperator<String> volumeIdOf;

    private final Map<Object, Holder> holders = new HashMap<>();
    private final Map<String, List<Object>> keysOfJob = new HashMap<>();

    /** @param volumeIdOf {@code (host, volume root) -> volume id}, null when unknown */
    ChainLeases(BinaryOperator<String> volumeIdOf) {
        this.volumeIdOf = volumeIdOf;
    }

    /** Whether a job of this kind writes its chain, and so must hold it. */
    static boolean writes(CampaignJob job) {
        JobKind kind = job.job().kind();
        return kind == JobKind.MERGE || kind == JobKind.TRANSPLANT || kind == JobKind.SET_PARENT;
    }

    /** Who holds {@code job}'s chain other than {@code job} itself; null when it may be published. */
    Holder heldByAnother(CampaignJob job) {
        for (Object key : keysOf(job)) {
            Holder holder = holders.get(key);
            if (holder != null && !holder.jobId().equals(job.jobId())) {
                return holder;
            }
        }
        return null;
    }

    /**
     * Leases {@code job}'s chain to it (a no-op when it holds it already); returns who holds it instead when
     * that is another job. Only a replica taking over, from jobs two older coordinators both published, meets
     * that: the first keeps the chain, the other finishes unleased and the volume's claims keep them apart.
     */
    Holder take(CampaignJob job) {
        Holder other = heldByAnother(job);
        if (other != null) {
            return other;
        }
        List<Object> keys = keysOf(job);
        Holder holder = new Holder(job.campaignId(), job.jobId());
        keys.forEach(key -> holders.put(key, holder));
        keysOfJob.merge(job.jobId(), keys, (held, more) -> {
            List<Object> all = new ArrayList<>(held);
            more.stream().filter(k -> !held.contains(k)).forEach(all::add);
            return all;
        });
        return null;
    }

    /** Releases whatever chain {@code jobId} holds. */
    void release(String jobId) {
        List<Object> keys = keysOfJob.remove(jobId);
        if (keys != null) {
            keys.forEach(key -> holders.remove(key));
        }
    }

    int held() {
        return keysOfJob.size();
    }

    private List<Object> keysOf(CampaignJob job) {
        String root = job.job().key();
        List<Object> keys = new ArrayList<>(2);
        keys.add(new PoolChain(job.job().pool(), root));
        String volumeId =
                job.host() == null || job.volume() == null ? null : volumeIdOf.apply(job.host(), job.volume());
        Path volume = job.volume() == null ? null : Path.of(job.volume());
        if (volumeId != null && Path.of(root).startsWith(volume)) {
            keys.add(new VolumeChain(volumeId, volume.relativize(Path.of(root)).toString()));
        }
        return keys;
    }
}
