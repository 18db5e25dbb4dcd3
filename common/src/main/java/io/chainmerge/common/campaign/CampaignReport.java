package io.chainmerge.common.campaign;

import io.chainmerge.common.message.JobProgress;
import io.chainmerge.common.message.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A campaign as the coordinator's API shows it: where it stands, its totals, every job with its
 * outcome (and live progress while it runs), and every disk it left alone with the reason.
 *
 * @param elapsed from submission to the end, or to now while it runs
 * @param submittedBy who submitted it ({@code principal from address}); null for a report of a campaign
 *     submitted before the coordinator recorded it, and for a backup system's standing campaign
 * @param actions who submitted, cancelled, paused, resumed or approved it, oldest first
 * @param summarizedAt when it was folded to its totals ({@code campaigns.retention} after it ended): its
 *     jobs, skips and recoveries are no longer kept; null while they are
 */
public record CampaignReport(
        String campaignId,
        String name,
        CampaignState state,
        boolean paused,
        boolean dryRun,
        Instant submittedAt,
        Instant endedAt,
        Duration elapsed,
        Totals totals,
        List<JobView> jobs,
        List<CampaignSkip> skipped,
        List<CampaignRecovery> recoveries,
        String submittedBy,
        List<CampaignAction> actions,
        Instant summarizedAt) {

    public CampaignReport {
        jobs = jobs == null ? List.of() : List.copyOf(jobs);
        actions = actions == null ? List.of() : List.copyOf(actions);
        skipped = skipped == null ? List.of() : List.copyOf(skipped);
        recoveries = recoveries == null ? List.of() : List.copyOf(recoveries);
    }

    /**
     * Counts over the campaign's merge jobs (space checks are not counted).
     *
     * @param merged merges that succeeded (in a dry run: that would run)
     * @param refused merges a guard refused on the worker, less those a space recovery stands in for
     *     (unless it failed or was impossible)
     * @param skipped disks the plan left alone (siblings, orphans, unreachable pools)
     * @param bytesToMerge payload bytes of the merges that ran or run, as far as known
     * @param republished times a job of the campaign (of any kind) was published again because its worker
     *     showed no sign of life for the stall timeout
     */
    public record Totals(
            int jobs,
            int waiting,
            int running,
            int merged,
            int refused,
            int failed,
            int skipped,
            long bytesMerged,
            long reclaimedBytes,
            Integer republished) {
        public Totals {
            republished = republished == null ? 0 : republished; // absent from reports made before stalls were counted
        }
    }

    /**
     * One job of the campaign. {@code progress} is the latest report of a running merge (or, with no bytes,
     * of a job its worker holds waiting for a slot); {@code attempts} is how many times it was sent to its
     * pool (more than 1 after stalls); {@code waitingFor}, for a planned job, names the job elsewhere it waits for
     * (another job holds its chain), or is null; {@code startedAt} is when its worker started it (for a job out
     * with no result yet, when it was sent), so its bytes can be drawn over the time it ran.
     */
    public record JobView(
            String jobId,
            String kind,
            String pool,
            String host,
            String volume,
            String child,
            String destination,
            JobStatus status,
            Outcome outcome,
            String reason,
            String message,
            Map<String, Object> figures,
            long bytesMerged,
            long reclaimedBytes,
            Instant startedAt,
            Duration duration,
            List<String> resultingChain,
            JobProgress progress,
            Integer attempts,
            String waitingFor) {
        public JobView {
            figures = figures == null ? Map.of() : Map.copyOf(figures);
            resultingChain = resultingChain == null ? List.of() : List.copyOf(resultingChain);
            attempts = attempts == null ? 1 : attempts; // absent from reports made before attempts were counted
        }
    }

    /** The same report without the per-job and per-disk lists, for listings. */
    public CampaignReport summary() {
        return new CampaignReport(
                campaignId,
                name,
                state,
                paused,
                dryRun,
                submittedAt,
                endedAt,
                elapsed,
                totals,
                List.of(),
                List.of(),
                List.of(),
                submittedBy,
                List.of(),
                summarizedAt);
    }
}
