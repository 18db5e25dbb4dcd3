package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.BackupRequest;
import io.chainmerge.common.campaign.CampaignAction;
import io.chainmerge.common.campaign.CampaignEvent;
import io.chainmerge.common.campaign.CampaignJob;
import io.chainmerge.common.campaign.CampaignRecovery;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignReport.JobView;
import io.chainmerge.common.campaign.CampaignReport.Totals;
import io.chainmerge.common.campaign.CampaignSkip;
import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.campaign.CampaignStateChanged;
import io.chainmerge.common.campaign.CampaignSubmitted;
import io.chainmerge.common.campaign.CampaignSummarized;
import io.chainmerge.common.campaign.JobStatus;
import io.chainmerge.common.campaign.RecoveryStatus;
import io.chainmerge.common.message.JobKind;
import io.chainmerge.common.message.JobProgress;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.message.TransplantJob;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One campaign's state: the fold of its events, plus what is not worth keeping across a restart
 * (live progress, sends under way). Touched only by the {@link Campaigns} thread.
 */
final class Campaign {
    final String id;
    CampaignSpec spec;
    Instant submittedAt;
    CampaignState state = CampaignState.SCANNING;
    boolean paused;
    Instant stateAt;
    final Map<String, CampaignJob> jobs = new LinkedHashMap<>();
    /**
     * The jobs without a result yet, in the same order: what scheduling looks at on every step, so a
     * step costs what is still to do, not the whole campaign.
     */
    final Map<String, CampaignJob> unfinished = new LinkedHashMap<>();

    final Map<String, CampaignSkip> skips = new LinkedHashMap<>();
    /** Space recoveries by the merge they stand in for. */
    final Map<String, CampaignRecovery> recoveries = new LinkedHashMap<>();

    final Map<String, JobProgress> progress = new HashMap<>();
    /** A standing campaign's backup requests, in the order they were received. */
    final Map<String, BackupRequest> requests = new LinkedHashMap<>();
    /**
     * The requests not answered yet, in the same order: what a standing campaign's step looks at, so a tick
     * costs the requests under way, not every request ever answered.
     */
    final Map<String, BackupRequest> openRequests = new LinkedHashMap<>();
    /**
     * Merges refused for space, by job id, that no space recovery stands in for yet: what a step plans
     * recoveries for, without scanning every merge of the campaign.
     */
    final Map<String, CampaignJob> refusedForSpace = new LinkedHashMap<>();
    /** The backup request each of a standing campaign's merge jobs serves. */
    final Map<String, String> requestOfJob = new HashMap<>();
    /** Who submitted, cancelled, paused, resumed or approved it, by sequence. */
    final Map<Integer, CampaignAction> actions = new java.util.TreeMap<>();
    /**
     * Jobs sent to their pool whose PUBLISHED event is not written yet. Changed through {@link #sending} and
     * {@link #sent} only, which keep the indexes below.
     */
    private final Set<String> publishing = new HashSet<>();

    /**
     * The order each job not finished was first recorded in: the plan's order, which publishing follows.
     */
    private final Map<String, Long> order = new HashMap<>();

    private long nextOrder;
    /**
     * Planned merges and transplants not out yet, per volume, in plan order: what publishing looks at, so a
     * step costs the jobs that could go, not every job still to do.
     */
    final Map<VolumeKey, java.util.TreeMap<Long, CampaignJob>> runnable = new LinkedHashMap<>();
    /** Planned jobs of the other kinds (space checks, set-parents) not out yet, in plan order. */
    final java.util.TreeMap<Long, CampaignJob> runnableLight = new java.util.TreeMap<>();
    /** Merges and transplants out (published, or being sent), per volume of a pool, per pool and overall. */
    final Map<VolumeKey, Integer> outPerVolume = new HashMap<>();

    final Map<String, Integer> outPerPool = new HashMap<>();
    int outOverall;
    /** The merges and transplants counted out, with the volume they count on. */
    private final Map<String, VolumeKey> outHeavy = new HashMap<>();
    /**
     * Planned jobs that wait for something outside the campaign (another job holds their chain, their volume's
     * budget is spent), with the reason, as the last step found them.
     */
    final Map<String, String> waitingFor = new HashMap<>();
    /** The totals it was folded to once over for campaigns.retention; null while its entities are kept. */
    CampaignReport.Totals summary;

    Instant summarizedAt;
    /**
     * Keys of entities read after the fold (on another partition than the summary, their tombstones not
     * written or not yet compacted): a new leader tombstones them again.
     */
    final Set<String> leftovers = new HashSet<>();
    /** Changes streamed so far in this process: the sequence of the campaign's event ids ({@link CampaignStreams}). */
    long changes;
    /** Whether a totals event is already due for the streams. */
    boolean totalsDue;

    Campaign(String id) {
        this.id = id;
    }

    /** Folds one event in. Each event carries its entity's whole state, so the latest simply wins. */
    void apply(CampaignEvent event) {
        if (summary != null && isEntity(event)) {
            leftovers.add(event.key());
            return;
        }
        if (event instanceof CampaignSummarized summarized) {
            summary = summarized.totals();
            summarizedAt = summarized.at();
            jobs.clear();
            unfinished.clear();
            skips.clear();
            recoveries.clear();
            refusedForSpace.clear();
            progress.clear();
            publishing.clear();
            waitingFor.clear();
            order.clear();
            runnable.clear();
            runnableLight.clear();
            outPerVolume.clear();
            outPerPool.clear();
            outOverall = 0;
            outHeavy.clear();
        } else if (event instanceof CampaignSubmitted submitted) {
            spec = submitted.spec();
            submittedAt = submitted.at();
        } else if (event instanceof CampaignStateChanged changed) {
            state = changed.state();
            paused = changed.paused();
            stateAt = changed.at();
        } else if (event instanceof CampaignJob job) {
            jobs.put(job.jobId(), job);
            if (job.status() != JobStatus.FINISHED) {
                order.computeIfAbsent(job.jobId(), id -> nextOrder++);
            }
            reindex(job.jobId());
            if (job.status() == JobStatus.FINISHED) {
                progress.remove(job.jobId());
                unfinished.remove(job.jobId());
                if (refusedForSpace(job.result()) && !recoveries.containsKey(job.jobId())) {
                    refusedForSpace.put(job.jobId(), job);
                } else {
                    refusedForSpace.remove(job.jobId());
                }
            } else {
                unfinished.put(job.jobId(), job);
            }
        } else if (event instanceof CampaignSkip skip) {
            skips.put(skip.key(), skip);
        } else if (event instanceof CampaignRecovery recovery) {
            recoveries.put(recovery.jobId(), recovery);
            refusedForSpace.remove(recovery.jobId());
        } else if (event instanceof CampaignAction action) {
            actions.put(action.sequence(), action);
        } else if (event instanceof BackupRequest request) {
            requests.put(request.requestId(), request);
            if (request.status() == BackupRequest.Status.ANSWERED) {
                openRequests.remove(request.requestId());
            } else {
                openRequests.put(request.requestId(), request);
            }
            request.jobIds().forEach(job -> requestOfJob.put(job, request.requestId()));
        }
    }

    /** A job goes out to its pool: it counts against the limits until its result, or until sending fails. */
    void sending(String jobId) {
        publishing.add(jobId);
        reindex(jobId);
    }

    /** The send of a job is over (published, failed, or its result came first); false when it was not under way. */
    boolean sent(String jobId) {
        boolean was = publishing.remove(jobId);
        if (was) {
            reindex(jobId);
        }
        return was;
    }

    boolean publishing(String jobId) {
        return publishing.contains(jobId);
    }

    boolean nothingPublishing() {
        return publishing.isEmpty();
    }

    /** Merges and transplants are I/O storms: the campaign's limits hold for both. */
    static boolean heavy(CampaignJob job) {
        return job.job().kind() == JobKind.MERGE || job.job().kind() == JobKind.TRANSPLANT;
    }

    /** A volume of a pool; a record over the job's own strings, so its hash costs nothing per step. */
    record VolumeKey(String pool, String volume) {
        static VolumeKey of(CampaignJob job) {
            return new VolumeKey(job.job().pool(), job.volume());
        }
    }

    /**
     * Puts one job where it belongs now in the indexes of what may go ({@link #runnable}) and what is out
     * ({@link #outPerVolume} and the other counts): costs that job only.
     */
    private void reindex(String jobId) {
        CampaignJob job = jobs.get(jobId);
        boolean live = job != null && job.status() != JobStatus.FINISHED;
        boolean isHeavy = job != null && heavy(job);
        boolean out = live && (job.status() == JobStatus.PUBLISHED || publishing.contains(jobId));
        boolean canGo = live && job.status() == JobStatus.PLANNED && !publishing.contains(jobId);
        VolumeKey counted = outHeavy.get(jobId);
        if (counted != null && !(out && isHeavy)) {
            outHeavy.remove(jobId);
            outPerVolume.merge(counted, -1, (a, b) -> a + b == 0 ? null : a + b);
            outPerPool.merge(counted.pool(), -1, (a, b) -> a + b == 0 ? null : a + b);
            outOverall--;
        } else if (counted == null && out && isHeavy) {
            VolumeKey key = VolumeKey.of(job);
            outHeavy.put(jobId, key);
            outPerVolume.merge(key, 1, Integer::sum);
            outPerPool.merge(key.pool(), 1, Integer::sum);
            outOverall++;
        }
        // A finished job needs no place in the plan's order: history costs no entry here.
        Long position = live ? order.get(jobId) : order.remove(jobId);
        if (job == null || position == null) {
            return;
        }
        if (!isHeavy) {
            if (canGo) {
                runnableLight.put(position, job);
            } else {
                runnableLight.remove(position);
            }
            return;
        }
        VolumeKey key = VolumeKey.of(job);
        if (canGo) {
            runnable.computeIfAbsent(key, k -> new java.util.TreeMap<>()).put(position, job);
        } else {
            java.util.TreeMap<Long, CampaignJob> queue = runnable.get(key);
            if (queue != null && queue.remove(position) != null && queue.isEmpty()) {
                runnable.remove(key);
            }
        }
    }

    boolean isComplete() {
        return spec != null;
    }

    /** What a fold drops: jobs, skips and recoveries (a standing campaign is never over, so never folded). */
    static boolean isEntity(CampaignEvent event) {
        return event instanceof CampaignJob || event instanceof CampaignSkip || event instanceof CampaignRecovery;
    }

    /** The keys of every entity a fold drops. */
    List<String> entityKeys() {
        List<String> keys = new ArrayList<>(jobs.size() + skips.size() + recoveries.size());
        jobs.values().forEach(job -> keys.add(job.key()));
        skips.values().forEach(skip -> keys.add(skip.key()));
        recoveries.values().forEach(recovery -> keys.add(recovery.key()));
        return keys;
    }

    List<CampaignJob> jobsOf(JobKind kind) {
        return jobs.values().stream().filter(j -> j.job().kind() == kind).toList();
    }

    /**
     * Every merge and transplant has a result and every space recovery is over (space checks no longer
     * matter once the plan is made; a pool may never answer). A proposed recovery waits for its approval.
     */
    boolean allFinished() {
        return publishing.isEmpty()
                && unfinished.values().stream().allMatch(j -> j.job().kind() == JobKind.SPACE_CHECK)
                && recoveries.values().stream().allMatch(r -> r.status().isOver());
    }

    /** A merge the worker refused because its destination's volume could not hold the growth. */
    static boolean refusedForSpace(JobResult result) {
        return result != null
                && result.kind() == JobKind.MERGE
                && result.outcome() == Outcome.REFUSED
                && result.problem() != null
                && "insufficient-space".equals(result.problem().reason());
    }

    /** The recovery whose step {@code jobId} is, if any. */
    CampaignRecovery recoveryOfStep(String jobId) {
        for (CampaignRecovery recovery : recoveries.values()) {
            for (CampaignRecovery.Step step : recovery.steps()) {
                if (step.job().jobId().equals(jobId)) {
                    return recovery;
                }
            }
        }
        return null;
    }

    /** A refused merge counts as refused unless a recovery that has not failed stands in for it. */
    private boolean standsRecovered(String jobId) {
        CampaignRecovery recovery = recoveries.get(jobId);
        return recovery != null
                && recovery.status() != RecoveryStatus.FAILED
                && recovery.status() != RecoveryStatus.IMPOSSIBLE;
    }

    CampaignReport report(Instant now) {
        return report(now, true);
    }

    /** The report; without {@code details}, only the totals (listings need no per-job views). */
    CampaignReport report(Instant now, boolean details) {
        int waiting = 0;
        int running = 0;
        int merged = 0;
        int refused = 0;
        int failed = 0;
        long bytes = 0;
        long reclaimed = 0;
        int republished = 0;
        for (CampaignJob job : jobs.values()) {
            republished += Math.max(0, job.attempts() - 1);
        }
        List<JobView> views = new ArrayList<>();
        List<CampaignJob> merges = jobsOf(JobKind.MERGE);
        if (details) {
            for (CampaignJob job : jobs.values()) {
                views.add(view(job));
            }
        }
        for (CampaignJob job : merges) {
            JobResult result = job.result();
            if (job.status() == JobStatus.PLANNED && !publishing.contains(job.jobId())) {
                waiting++;
            } else if (result == null) {
                running++;
            } else {
                switch (result.outcome()) {
                    case SUCCEEDED -> merged++;
                    case REFUSED -> refused += standsRecovered(job.jobId()) ? 0 : 1;
                    case FAILED -> failed++;
                }
                bytes += result.redelivered() ? 0 : result.bytesMerged();
                reclaimed += result.merge() == null || result.redelivered()
                        ? 0
                        : result.merge().reclaimedBytes();
            }
        }
        Instant ended = state.isOver() ? stateAt : null;
        Duration elapsed = Duration.between(submittedAt, ended != null ? ended : now);
        Totals totals = summary != null
                ? summary
                : new Totals(
                        merges.size(),
                        waiting,
                        running,
                        merged,
                        refused,
                        failed,
                        skips.size(),
                        bytes,
                        reclaimed,
                        republished);
        return new CampaignReport(
                id,
                spec.name(),
                state,
                paused,
                spec.dryRun(),
                submittedAt,
                ended,
                elapsed,
                totals,
                views,
                List.copyOf(skips.values()),
                details ? List.copyOf(recoveries.values()) : List.of(),
                submittedBy(),
                details ? List.copyOf(actions.values()) : List.of(),
                summarizedAt);
    }

    /** Who submitted it, from its history; null when it has none (submitted before it was kept, or standing). */
    private String submittedBy() {
        return actions.values().stream()
                .filter(a -> a.action().equals("submit"))
                .findFirst()
                .map(a -> new Actor(a.principal(), a.address()).toString())
                .orElse(null);
    }

    JobView view(CampaignJob job) {
        JobResult result = job.result();
        String child = null;
        String destination = null;
        if (job.job() instanceof MergeJob merge) {
            child = merge.child();
            destination = merge.intoNew() != null ? merge.intoNew() : merge.destination();
        } else if (job.job() instanceof TransplantJob move) {
            child = move.disks().get(0);
            destination = move.targetFolder();
        }
        Outcome outcome = result == null ? null : result.outcome();
        return new JobView(
                job.jobId(),
                job.job().kind().wireName(),
                job.job().pool(),
                result != null ? result.worker() : job.host(),
                job.volume(),
                child,
                destination,
                publishing.contains(job.jobId()) ? JobStatus.PUBLISHED : job.status(),
                outcome,
                result == null || result.problem() == null
                        ? null
                        : result.problem().reason(),
                result == null || result.problem() == null
                        ? null
                        : result.problem().message(),
                result == null || result.problem() == null
                        ? Map.of()
                        : result.problem().figures(),
                result == null ? 0 : result.bytesMerged(),
                result == null || result.merge() == null ? 0 : result.merge().reclaimedBytes(),
                result != null ? result.startedAt() : job.status() == JobStatus.PUBLISHED ? job.at() : null,
                result == null ? null : result.duration(),
                result == null ? List.of() : result.resultingChain(),
                progress.get(job.jobId()),
                job.attempts(),
                waitingFor(job));
    }

    /** Why a planned job is not out yet, when the reason lies outside the campaign, so the operator can see it. */
    private String waitingFor(CampaignJob job) {
        return job.status() != JobStatus.PLANNED || state.isOver() ? null : waitingFor.get(job.jobId());
    }
}
