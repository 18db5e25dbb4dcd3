package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.CampaignJob;
import io.chainmerge.common.message.JobKind;
import java.util.HashMap;
import java.util.Map;

/**
 * One job out per chain, whatever campaign it belongs to. A fleet campaign, a backup system's standing
 * campaign and a space recovery can each plan a job for the same chain; the chain is leased to the first
 * one published, and the others stay planned until its result releases it. The volume's claims
 * (docs/merge-safety.md) would refuse the second writer anyway; the lease keeps it from being sent at all,
 * so it neither takes a worker's slot nor comes back {@code in-use}.
 *
 * <p>A chain is its pool and its root's path, the key its jobs are published under. Taking, checking and
 * releasing cost O(1); the state is rebuilt from the jobs out when a replica takes over. Runs on the
 * campaigns' thread only.
 */
final class ChainLeases {
    /** A chain of a pool; its jobs share this Kafka key, so they reach one partition in order. */
    record Chain(String pool, String root) {
        static Chain of(CampaignJob job) {
            return new Chain(job.job().pool(), job.job().key());
        }
    }

    /** A job holding a chain. */
    record Holder(String campaignId, String jobId) {}

    private final Map<Chain, Holder> holders = new HashMap<>();
    private final Map<String, Chain> chainOfJob = new HashMap<>();

    /** Whether a job of this kind writes its chain, and so must hold it. */
    static boolean writes(CampaignJob job) {
        JobKind kind = job.job().kind();
        return kind == JobKind.MERGE || kind == JobKind.TRANSPLANT || kind == JobKind.SET_PARENT;
    }

    /** Who holds {@code job}'s chain other than {@code job} itself; null when it may be published. */
    Holder heldByAnother(CampaignJob job) {
        Holder holder = holders.get(Chain.of(job));
        return holder == null || holder.jobId().equals(job.jobId()) ? null : holder;
    }

    /**
     * Leases {@code job}'s chain to it (a no-op when it holds it already); returns who holds it instead when
     * that is another job. Only a replica taking over, from jobs two older coordinators both published, meets
     * that: the first keeps the chain, the other finishes unleased and the volume's claims keep them apart.
     */
    Holder take(CampaignJob job) {
        Chain chain = Chain.of(job);
        Holder holder = holders.get(chain);
        if (holder != null && !holder.jobId().equals(job.jobId())) {
            return holder;
        }
        holders.put(chain, new Holder(job.campaignId(), job.jobId()));
        chainOfJob.put(job.jobId(), chain);
        return null;
    }

    /** Releases whatever chain {@code jobId} holds. */
    void release(String jobId) {
        Chain chain = chainOfJob.remove(jobId);
        if (chain != null) {
            holders.remove(chain);
        }
    }

    int held() {
        return holders.size();
    }
}
