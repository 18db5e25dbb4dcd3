package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.BackupOutcome;
import io.chainmerge.common.campaign.BackupRequest;
import io.chainmerge.common.campaign.BackupRequest.Kind;
import io.chainmerge.common.campaign.BackupRequest.Status;
import io.chainmerge.common.campaign.CampaignJob;
import io.chainmerge.common.campaign.CampaignSkip;
import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.campaign.CampaignStateChanged;
import io.chainmerge.common.campaign.CampaignSubmitted;
import io.chainmerge.common.campaign.JobStatus;
import io.chainmerge.common.message.JobKind;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.message.Problem;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.SpaceCheckJob;
import io.chainmerge.common.message.VolumeInventory;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Backup systems' requests, each system's in a standing campaign of its own (one per event source, state
 * {@code standing}): each request is recorded, with the jobs it becomes, before its event's offset is
 * committed, and its job ids come from its request id, so a redelivered event, or one read again after
 * a restart, finds its request and starts nothing. Its merges wait behind the campaign's limits like any
 * campaign's, the most urgent first (priority, then deadline); a request is answered on
 * {@code chainmerge.notifications} once every merge it became has a result, and recorded answered only
 * after that notification is acknowledged, so a restart in between sends it again rather than never.
 *
 * <p>Single-threaded like {@link Campaigns}, whose campaigns, log and limits it shares: it is entered only
 * from that class's work on the campaigns thread, and its own continuations go back to that thread
 * ({@code whenCompleteAsync(..., thread)}), so none of that state needs a lock.
 */
final class BackupRequests {
    private static final Logger LOG = LoggerFactory.getLogger(BackupRequests.class);

    /** Records, steps and publishes for the standing campaigns as for every other. */
    private final Campaigns campaigns;
    /** Every campaign by id, the map {@link Campaigns} owns: a source's first request adds its standing campaign. */
    private final Map<String, Campaign> byId;

    private final ExecutorService thread;
    private final Clock clock;
    private final CoordinatorMetrics metrics;
    private final InventoryView inventory;
    private final BackupNotifier notifier;
    private final BackupSettings backup;
    /** Requests whose records are on their way to the log: a duplicate event waits for the same appends. */
    private final Map<String, CompletableFuture<Void>> requestsRecording = new HashMap<>();
    /** The disks the latest finished space check found, by pool and path (requests waiting for it look theirs up). */
    private String indexedScan;

    private Map<String, InventoryView.Located> scanIndex = Map.of();
    /** Requests whose notification is on its way. */
    private final Set<String> answering = new HashSet<>();

    BackupRequests(
            Campaigns campaigns,
            Map<String, Campaign> byId,
            ExecutorService thread,
            Clock clock,
            CoordinatorMetrics metrics,
            InventoryView inventory,
            BackupNotifier notifier,
            BackupSettings backup) {
        this.campaigns = campaigns;
        this.byId = byId;
        this.thread = thread;
        this.clock = clock;
        this.metrics = metrics;
        this.inventory = inventory;
        this.notifier = notifier;
        this.backup = backup;
    }

    /**
     * Takes a valid backup event: records it as a request of its backup system's standing campaign (and
     * the merge job it becomes, when the inventory places its disk). Completes with the request id once
     * all of that is durable; a request already known completes once its records are.
     */
    CompletableFuture<String> accept(BackupEvent event) {
        String campaignId = BackupEvents.campaignId(event.source());
        Campaign campaign = byId.get(campaignId);
        if (campaign != null && campaign.requests.containsKey(event.requestId())) {
            return recorded(campaign, event.requestId()).thenApply(v -> event.requestId());
        }
        Instant now = clock.instant();
        List<CompletableFuture<Void>> durable = new ArrayList<>();
        if (campaign == null) {
            campaign = new Campaign(campaignId);
            byId.put(campaignId, campaign);
            durable.add(recordSpec(campaign, event.source(), List.of(event.pool()), now));
            durable.add(campaigns.record(
                    campaign,
                    new CampaignStateChanged(
                            Schema.VERSION,
                            campaignId,
                            null,
                            now,
                            CampaignState.STANDING,
                            false,
                            "the first request from " + event.source())));
            LOG.info("standing campaign {} for backup requests from {}", campaignId, event.source());
        } else if (!campaign.spec.pools().contains(event.pool())) {
            List<String> pools = new ArrayList<>(campaign.spec.pools());
            pools.add(event.pool());
            durable.add(recordSpec(campaign, event.source(), pools, campaign.submittedAt));
        }
        BackupRequest request = new BackupRequest(
                Schema.VERSION,
                campaignId,
                null,
                now,
                event.requestId(),
                event.kind(),
                event.source(),
                event.eventId(),
                event.pool(),
                event.host(),
                event.disk(),
                event.folder(),
                event.deadline(),
                event.priority(),
                now,
                Status.RECEIVED,
                null,
                List.of(),
                List.of(),
                null);
        durable.add(campaigns.record(campaign, request));
        durable.add(plan(campaign, request));
        CompletableFuture<Void> all = CompletableFuture.allOf(durable.toArray(CompletableFuture[]::new));
        requestsRecording.put(event.requestId(), all);
        all.whenCompleteAsync((ok, error) -> requestsRecording.remove(event.requestId(), all), thread);
        campaigns.step(campaign);
        return all.thenApply(v -> event.requestId());
    }

    /** Completes once a known request's records are durable, appending again what failed to append. */
    /** A standing campaign's spec: the backup settings over {@code pools}, recorded as submitted at {@code at}. */
    private CompletableFuture<Void> recordSpec(Campaign campaign, String source, List<String> pools, Instant at) {
        return campaigns.record(
                campaign, new CampaignSubmitted(Schema.VERSION, campaign.id, null, at, backup.spec(source, pools)));
    }

    private CompletableFuture<Void> recorded(Campaign campaign, String requestId) {
        List<CompletableFuture<Void>> durable = new ArrayList<>();
        CompletableFuture<Void> recording = requestsRecording.get(requestId);
        if (recording != null) {
            durable.add(recording.exceptionally(error -> null));
        }
        BackupRequest request = campaign.requests.get(requestId);
        List<String> keys = new ArrayList<>();
        keys.add(request.key());
        request.jobIds().forEach(job -> keys.add(campaign.id + "/job/" + job));
        if (request.scanJobId() != null) {
            keys.add(campaign.id + "/job/" + request.scanJobId());
        }
        keys.forEach(key -> durable.add(campaigns.recordAgain(campaign, key)));
        return CompletableFuture.allOf(durable.toArray(CompletableFuture[]::new))
                .thenCompose(v -> keys.stream().anyMatch(campaigns::unrecorded)
                        ? CompletableFuture.failedFuture(
                                new IllegalStateException("request " + requestId + " is not recorded yet"))
                        : CompletableFuture.completedFuture(null));
    }

    /** Moves a standing campaign on: publishes what its limits allow, plans received requests, answers finished ones. */
    void step(Campaign campaign) {
        boolean open = campaign.state == CampaignState.STANDING;
        if (open && !campaign.paused) {
            campaigns.publishPlanned(campaign);
        }
        if (!open) {
            for (CampaignJob job : List.copyOf(campaign.unfinished.values())) {
                if (job.status() == JobStatus.PLANNED && !campaign.publishing(job.jobId())) {
                    refuse(
                            campaign,
                            job,
                            "cancelled",
                            "the backup campaign " + campaign.id + " was cancelled before this merge started",
                            Map.of());
                }
            }
        }
        for (BackupRequest request : List.copyOf(campaign.openRequests.values())) {
            if (request.status() == Status.RECEIVED) {
                plan(campaign, request);
            } else if (request.status() == Status.PLANNED
                    && request.jobIds().stream()
                            .allMatch(id -> campaign.jobs.get(id).status() == JobStatus.FINISHED)) {
                answer(campaign, request, outcomeOf(campaign, request));
            }
        }
    }

    /**
     * Turns a received request into merge jobs when it can: a released checkpoint from the inventory
     * that places its disk, a cleanup from a space check of its pool made after it arrived. A disk no
     * scan of the pool has seen waits for such a scan, and is answered {@code refused: not-found} when
     * that scan does not find it either; a disk the inventory knows but that is gone by the time its
     * merge runs is answered the same from the worker's result.
     */
    private CompletableFuture<Void> plan(Campaign campaign, BackupRequest request) {
        Instant now = clock.instant();
        if (campaign.state == CampaignState.CANCELLED) {
            answer(
                    campaign,
                    request,
                    refusal(request, "cancelled", "the backup campaign " + campaign.id + " is cancelled", Map.of()));
            return CompletableFuture.completedFuture(null);
        }
        if (request.deadline() != null && now.isAfter(request.deadline())) {
            answer(
                    campaign,
                    request,
                    refusal(
                            request,
                            "deadline-passed",
                            "the request's deadline " + request.deadline() + " passed before its merge could start",
                            Map.of("deadline", request.deadline().toString(), "refusedAt", now.toString())));
            return CompletableFuture.completedFuture(null);
        }
        CampaignJob scan = request.scanJobId() == null ? null : campaign.jobs.get(request.scanJobId());
        boolean scanned = scan != null && scan.status() == JobStatus.FINISHED;
        if (scanned && scan.result().outcome() != Outcome.SUCCEEDED) {
            answer(
                    campaign,
                    request,
                    failure(request, "scan-failed", scan.result().problem().message()));
            return CompletableFuture.completedFuture(null);
        }
        if (scan != null && !scanned && Campaigns.scanLate(campaign, scan, now)) {
            answer(
                    campaign,
                    request,
                    failure(
                            request,
                            "unreachable",
                            "no worker of pool " + request.pool() + " answered the space check in "
                                    + campaign.spec.scanTimeoutDuration()));
            return CompletableFuture.completedFuture(null);
        }
        if (scanned && inventory.scans(scan.result().inventory()).isEmpty()) {
            // The check's result is in; its inventory's pages are not all read yet.
            if (inventory.caughtUp() && now.isAfter(scan.at().plus(campaign.spec.scanTimeoutDuration()))) {
                answer(
                        campaign,
                        request,
                        failure(
                                request,
                                "inventory-incomplete",
                                "the inventory of space check " + scan.jobId() + " of pool " + request.pool()
                                        + " did not arrive whole on chainmerge.inventory in "
                                        + campaign.spec.scanTimeoutDuration()));
            }
            return CompletableFuture.completedFuture(null);
        }
        if (request.kind() == Kind.CHECKPOINT_RELEASED) {
            Optional<InventoryView.Located> found = scanned
                    ? Optional.ofNullable(scanIndex(scan).get(request.pool() + "|" + request.disk()))
                    : inventory.find(request.pool(), request.disk());
            if (found.isPresent()) {
                return planMerge(campaign, request, found.get());
            }
            if (scanned) {
                answer(
                        campaign,
                        request,
                        refusal(
                                request,
                                "not-found",
                                "no disk " + request.disk() + " on the volumes of pool " + request.pool()
                                        + " (space check " + scan.jobId() + ")",
                                Map.of()));
                return CompletableFuture.completedFuture(null);
            }
        } else if (scanned) {
            return planCleanup(
                    campaign,
                    request,
                    inventory.scans(scan.result().inventory()).orElseThrow());
        }
        return request.scanJobId() == null ? awaitScan(campaign, request) : CompletableFuture.completedFuture(null);
    }

    private Map<String, InventoryView.Located> scanIndex(CampaignJob scan) {
        if (!scan.jobId().equals(indexedScan)) {
            scanIndex = InventoryView.index(
                    inventory.scans(scan.result().inventory()).orElseThrow());
            indexedScan = scan.jobId();
        }
        return scanIndex;
    }

    /** Has the request wait for a space check of its pool that is not sent yet (a new one if none is). */
    private CompletableFuture<Void> awaitScan(Campaign campaign, BackupRequest request) {
        Instant now = clock.instant();
        List<CompletableFuture<Void>> durable = new ArrayList<>();
        CampaignJob scan = campaign.jobsOf(JobKind.SPACE_CHECK).stream()
                .filter(j -> j.job().pool().equals(request.pool())
                        && j.status() == JobStatus.PLANNED
                        && !campaign.publishing(j.jobId()))
                .findFirst()
                .orElse(null);
        if (scan == null) {
            int number = campaign.jobsOf(JobKind.SPACE_CHECK).size() + 1;
            SpaceCheckJob job = new SpaceCheckJob(
                    Schema.VERSION,
                    campaign.id + "-scan-" + request.pool() + "-" + number,
                    campaign.id,
                    request.pool(),
                    now,
                    List.of());
            scan = CampaignJob.planned(campaign.id, job, null, null, now);
            durable.add(campaigns.record(campaign, scan));
        }
        durable.add(campaigns.record(
                campaign,
                request.with(Status.RECEIVED, request.pool(), scan.jobId(), List.of(), List.of(), null, now)));
        return CompletableFuture.allOf(durable.toArray(CompletableFuture[]::new));
    }

    private CompletableFuture<Void> planMerge(Campaign campaign, BackupRequest request, InventoryView.Located disk) {
        Instant now = clock.instant();
        String chain =
                disk.disk().root() != null ? disk.disk().root() : disk.disk().path();
        MergeJob job = new MergeJob(
                Schema.VERSION,
                requestJobId(campaign, request, request.disk()),
                campaign.id,
                request.pool(),
                now,
                chain,
                request.disk(),
                null,
                null,
                null,
                false,
                campaign.spec.rateBytesPerSecond(),
                campaign.spec.reserveSpec(),
                campaign.spec.mergeWindows());
        CompletableFuture<Void> jobDurable =
                campaigns.record(campaign, CampaignJob.planned(campaign.id, job, disk.host(), disk.volume(), now));
        CompletableFuture<Void> requestDurable = campaigns.record(
                campaign,
                request.with(
                        Status.PLANNED,
                        request.pool(),
                        request.scanJobId(),
                        List.of(job.jobId()),
                        List.of(),
                        null,
                        now));
        return CompletableFuture.allOf(jobDurable, requestDurable);
    }

    /** Plans a cleanup as a campaign plans (bottom-up, siblings and orphans left alone), limited to its folder. */
    private CompletableFuture<Void> planCleanup(
            Campaign campaign, BackupRequest request, List<VolumeInventory> inventories) {
        Instant now = clock.instant();
        CampaignSpec spec = new CampaignSpec(
                campaign.spec.name(),
                List.of(request.pool()),
                List.of(),
                List.of(),
                null,
                CampaignSpec.Action.MERGE_TO_ROOT,
                null,
                campaign.spec.limits(),
                campaign.spec.rate(),
                campaign.spec.reserve(),
                false,
                null,
                null,
                null,
                null);
        Planner.Plan plan = Planner.plan(campaign.id, spec, Map.of(request.pool(), inventories), now);
        Path folder = Path.of(request.folder());
        List<CompletableFuture<Void>> durable = new ArrayList<>();
        List<String> jobIds = new ArrayList<>();
        for (Planner.PlannedJob planned : plan.jobs()) {
            MergeJob merge = planned.job();
            if (!Path.of(merge.chain()).startsWith(folder)
                    || !Path.of(merge.child()).startsWith(folder)) {
                continue;
            }
            MergeJob job = new MergeJob(
                    Schema.VERSION,
                    requestJobId(campaign, request, merge.child()),
                    campaign.id,
                    merge.pool(),
                    now,
                    merge.chain(),
                    merge.child(),
                    merge.destination(),
                    null,
                    null,
                    false,
                    merge.rateBytesPerSecond(),
                    merge.reserve(),
                    merge.windows());
            jobIds.add(job.jobId());
            durable.add(campaigns.record(
                    campaign, CampaignJob.planned(campaign.id, job, planned.host(), planned.volume(), now)));
        }
        List<CampaignSkip> skipped = plan.skips().stream()
                .filter(skip -> Path.of(skip.disk()).startsWith(folder))
                .toList();
        durable.add(campaigns.record(
                campaign,
                request.with(Status.PLANNED, request.pool(), request.scanJobId(), jobIds, skipped, null, now)));
        return CompletableFuture.allOf(durable.toArray(CompletableFuture[]::new));
    }

    /** Publishes a request's outcome, then records it answered (a restart in between answers it again). */
    private void answer(Campaign campaign, BackupRequest request, BackupOutcome outcome) {
        if (!answering.add(request.requestId())) {
            return;
        }
        notifier.outcome(request, outcome)
                .whenCompleteAsync(
                        (ok, error) -> {
                            answering.remove(request.requestId());
                            if (error != null) {
                                LOG.warn(
                                        "notifying request {} failed, will again: {}",
                                        request.requestId(),
                                        error.toString());
                                return;
                            }
                            BackupRequest current = campaign.requests.get(request.requestId());
                            if (current != null && current.status() != Status.ANSWERED) {
                                campaigns.record(
                                        campaign,
                                        current.with(
                                                Status.ANSWERED,
                                                current.pool(),
                                                current.scanJobId(),
                                                current.jobIds(),
                                                current.skipped(),
                                                outcome,
                                                clock.instant()));
                            }
                        },
                        thread);
    }

    /** What a request came to, from its merges' results: the first failure, else the first refusal, else success. */
    private static BackupOutcome outcomeOf(Campaign campaign, BackupRequest request) {
        List<BackupOutcome.Merge> merges = new ArrayList<>();
        Outcome overall = Outcome.SUCCEEDED;
        Problem first = null;
        for (String jobId : request.jobIds()) {
            CampaignJob job = campaign.jobs.get(jobId);
            JobResult result = job.result();
            Problem problem = result.problem();
            Outcome outcome = backupOutcome(result);
            merges.add(new BackupOutcome.Merge(
                    jobId,
                    ((MergeJob) job.job()).child(),
                    outcome,
                    problem == null ? null : problem.reason(),
                    problem == null ? null : problem.message(),
                    result.bytesMerged(),
                    result.resultingChain(),
                    result.merge() == null ? null : result.merge().reattach()));
            if (outcome == Outcome.FAILED && overall != Outcome.FAILED) {
                overall = Outcome.FAILED;
                first = problem;
            } else if (outcome == Outcome.REFUSED && overall == Outcome.SUCCEEDED) {
                overall = Outcome.REFUSED;
                first = problem;
            }
        }
        List<BackupOutcome.Skipped> skipped = request.skipped().stream()
                .map(s -> new BackupOutcome.Skipped(s.disk(), s.reason(), s.message()))
                .toList();
        if (merges.isEmpty() && !skipped.isEmpty()) {
            BackupOutcome.Skipped why = skipped.get(0);
            return new BackupOutcome(
                    request.requestId(), Outcome.REFUSED, why.reason(), why.message(), Map.of(), merges, skipped);
        }
        return new BackupOutcome(
                request.requestId(),
                overall,
                first == null ? null : first.reason(),
                first == null ? null : first.message(),
                first == null ? Map.of() : first.figures(),
                merges,
                skipped);
    }

    /** A disk that is gone is a refusal for a backup system (nothing to merge, nothing changed), not a failure. */
    private static Outcome backupOutcome(JobResult result) {
        if (result.outcome() == Outcome.FAILED
                && "not-found".equals(result.problem().reason())) {
            return Outcome.REFUSED;
        }
        return result.outcome();
    }

    private static BackupOutcome refusal(
            BackupRequest request, String reason, String message, Map<String, Object> figures) {
        return new BackupOutcome(request.requestId(), Outcome.REFUSED, reason, message, figures, List.of(), List.of());
    }

    private static BackupOutcome failure(BackupRequest request, String reason, String message) {
        return new BackupOutcome(request.requestId(), Outcome.FAILED, reason, message, Map.of(), List.of(), List.of());
    }

    /** Refuses a request's job whose deadline passed before it could be sent; whether it did. */
    boolean refusedPastDeadline(Campaign campaign, CampaignJob job, Instant now) {
        BackupRequest request = requestOf(campaign, job);
        if (request == null || request.deadline() == null || !now.isAfter(request.deadline())) {
            return false;
        }
        refuse(
                campaign,
                job,
                "deadline-passed",
                "the request's deadline " + request.deadline() + " passed before its merge could start",
                Map.of("deadline", request.deadline().toString(), "refusedAt", now.toString()));
        return true;
    }

    /** Finishes a job that was never sent with a refusal of the coordinator's own. */
    private void refuse(
            Campaign campaign, CampaignJob job, String reason, String message, Map<String, Object> figures) {
        Instant now = clock.instant();
        JobResult result = JobResult.verdict(
                job.job(),
                "coordinator",
                Outcome.REFUSED,
                new Problem("refused", reason, message, null, null, null, figures),
                now,
                Duration.ZERO);
        metrics.result(result);
        campaigns.record(campaign, job.with(JobStatus.FINISHED, result, now));
    }

    private static BackupRequest requestOf(Campaign campaign, CampaignJob job) {
        String requestId = campaign.requestOfJob.get(job.jobId());
        return requestId == null ? null : campaign.requests.get(requestId);
    }

    /** Priority first (higher first), then the nearest deadline, then the order requests came in; scans before all. */
    static Comparator<CampaignJob> mostUrgentFirst(Campaign campaign) {
        return Comparator.comparing(
                (CampaignJob job) -> requestOf(campaign, job),
                Comparator.nullsFirst(Comparator.comparing(BackupRequest::priority)
                        .reversed()
                        .thenComparing(BackupRequest::deadline, Comparator.nullsLast(Comparator.naturalOrder()))
                        .thenComparing(BackupRequest::receivedAt)));
    }

    private static String requestJobId(Campaign campaign, BackupRequest request, String child) {
        return campaign.id + "-b-" + BackupEvents.hash(request.requestId() + "|" + child, 8);
    }
}
