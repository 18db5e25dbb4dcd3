package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.BackupRequest;
import io.chainmerge.common.campaign.CampaignAction;
import io.chainmerge.common.campaign.CampaignEvent;
import io.chainmerge.common.campaign.CampaignJob;
import io.chainmerge.common.campaign.CampaignRecovery;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignSkip;
import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.campaign.CampaignSpec.Limits;
import io.chainmerge.common.campaign.CampaignSpec.SpacePolicy;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.campaign.CampaignStateChanged;
import io.chainmerge.common.campaign.CampaignSubmitted;
import io.chainmerge.common.campaign.CampaignSummarized;
import io.chainmerge.common.campaign.JobStatus;
import io.chainmerge.common.campaign.RecoveryStatus;
import io.chainmerge.common.log.LogContext;
import io.chainmerge.common.message.DeadLetter;
import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.JobKind;
import io.chainmerge.common.message.JobProgress;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.MergeWindows;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.message.Problem;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.SpaceCheckJob;
import io.chainmerge.common.message.VolumeInventory;
import io.chainmerge.coordinator.Campaign.VolumeKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every campaign, driven on one thread (the {@code chainmerge-campaigns} executor), so their state
 * needs no locks. A campaign goes: space-check every target pool → plan from the inventories →
 * publish merge jobs within its limits → record results → finished. Every step is an event in
 * {@link CampaignStore} first; a restarted coordinator replays them and carries on from there:
 *
 * <ul>
 *   <li>a job is sent to its pool before its PUBLISHED event is written, so a crash in between sends
 *       it again on restart, and the worker's job journal makes that second delivery harmless; the
 *       other order could lose a job forever;
 *   <li>a result is committed on {@code chainmerge.results} only after its FINISHED event is durable
 *       ({@link ResultsConsumer}), so no result is lost across a restart, and a result for a job
 *       already finished changes nothing;
 *   <li>planning is deterministic (same inventory, same job ids), so a plan cut short is planned again
 *       to the same jobs.
 * </ul>
 *
 * <p>A backup system's requests run in a standing campaign of their own, driven by {@link BackupRequests}
 * on this same thread.
 *
 * <p>Nothing out at a pool hangs silently: every published job (but space checks, which have the campaign's
 * scan timeout) holds a lease in {@link JobLeases}; a job without a sign of life for the stall timeout is
 * published again with the same id, and after the last attempt fails with reason {@code stalled}. A job record
 * a worker rejects to the dead-letter topic fails its job with the worker's reason.
 */
final class Campaigns {
    private static final Logger LOG = LoggerFactory.getLogger(Campaigns.class);
    private static final DateTimeFormatter ID_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

    private final ExecutorService thread;
    private final CampaignStore store;
    private final JobPublisher publisher;
    private final CoordinatorMetrics metrics;
    private final Clock clock;
    private final Map<String, Campaign> campaigns = new LinkedHashMap<>();
    /** The callers following campaigns live ({@code GET /v1/campaigns/{id}/events}). */
    private final CampaignStreams streams = new CampaignStreams(new io.chainmerge.common.json.JsonCodec());
    /** Events whose append failed (the broker was away), latest per key: appended again on every tick. */
    private final Map<String, CampaignEvent> unrecorded = new LinkedHashMap<>();

    private final TopicCreator topics;
    private final Set<String> readyPools = new HashSet<>();
    private final Set<String> creatingPools = new HashSet<>();

    private final BackupRequests backupRequests;
    /** The inventories space checks publish: a result names its scans, their disks are read here. */
    private final InventoryView inventory;

    private final StallSettings stalls;
    private final JobLeases leases;
    private final ChainLeases chains;
    private final VolumeBudget volumes;

    /** How long a campaign that is over keeps its jobs, skips and recoveries before it folds to its totals. */
    private final Duration retention;
    /** Campaigns that are over, by when they fold: a tick looks at the head only. */
    private final PriorityQueue<Fold> folds = new PriorityQueue<>(Comparator.comparing(Fold::due));

    private record Fold(Instant due, String campaignId) {}

    /** How long a campaign due to fold waits when a job of it is still out (a cancelled campaign's). */
    private static final Duration FOLD_AGAIN = Duration.ofMinutes(1);

    Campaigns(
            ExecutorService thread,
            CampaignStore store,
            JobPublisher publisher,
            TopicCreator topics,
            CoordinatorMetrics metrics,
            Clock clock,
            InventoryView inventory,
            BackupNotifier notifier,
            BackupSettings backup,
            StallSettings stalls,
            Duration retention,
            int volumeBudget) {
        this.thread = thread;
        this.retention = retention;
        this.inventory = inventory;
        this.stalls = stalls;
        this.leases = new JobLeases(stalls.timeout());
        BinaryOperator<String> volumeIdOf = inventory == null ? (host, volume) -> null : inventory::volumeId;
        this.chains = new ChainLeases(volumeIdOf);
        this.volumes = new VolumeBudget(volumeBudget, volumeIdOf);
        this.topics = topics;
        this.store = store;
        this.publisher = publisher;
        this.metrics = metrics;
        this.clock = clock;
        this.backupRequests = new BackupRequests(this, campaigns, thread, clock, metrics, inventory, notifier, backup);
    }

    /**
     * Folds events committed to the event log in, as a standby follows them (and a new leader, up to the
     * end of the log). Nothing is decided from them until {@link #takeOver}.
     */
    CompletableFuture<Void> follow(List<CampaignEvent> events) {
        return on(() -> {
            for (CampaignEvent event : events) {
                campaigns.computeIfAbsent(event.campaignId(), Campaign::new).apply(event);
            }
            return null;
        });
    }

    /**
     * This replica leads from now on: the campaigns it followed become the ones it drives. A campaign whose
     * submission never committed is dropped; every job out gets a lease of a whole timeout from now, since
     * the previous leader's knowledge of their progress is not in the log.
     */
    CompletableFuture<Void> takeOver() {
        return on(() -> {
            campaigns.values().removeIf(c -> !c.isComplete());
            Instant now = clock.instant();
            campaigns.values().forEach(c -> c.unfinished.values().forEach(job -> lease(job, now)));
            for (Campaign campaign : campaigns.values()) {
                scheduleFold(campaign);
                // A fold's tombstones that never committed, or records not yet compacted: dropped again.
                campaign.leftovers.forEach(store::tombstone);
                campaign.leftovers.clear();
            }
            LOG.info(
                    "taking over {} campaigns, {} not over",
                    campaigns.size(),
                    campaigns.values().stream().filter(c -> !c.state.isOver()).count());
            return null;
        });
    }

    /**
     * Submits a campaign; completes with its id once its records are committed, so a caller told "submitted" finds
     * it on every replica and after any takeover. Fails when they could not be (a leader fenced meanwhile): the
     * campaign may then exist or not, and a caller finds it by its name.
     */
    CompletableFuture<String> submit(CampaignSpec spec, Actor by) {
        return on(() -> {
                    Instant now = clock.instant();
                    String id = "c-" + ID_TIME.format(now) + "-"
                            + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
                    try (LogContext context = LogContext.ofCampaign(id)) {
                        return submitted(id, spec, by, now);
                    }
                })
                .thenCompose(submitted -> submitted);
    }

    private CompletableFuture<String> submitted(String id, CampaignSpec spec, Actor by, Instant now) {
        Campaign campaign = new Campaign(id);
        campaigns.put(id, campaign);
        List<CompletableFuture<Void>> durable = new ArrayList<>();
        durable.add(record(campaign, new CampaignSubmitted(Schema.VERSION, id, null, now, spec)));
        durable.add(recordAction(campaign, "submit", by, spec.name()));
        durable.add(record(
                campaign,
                new CampaignStateChanged(Schema.VERSION, id, null, now, CampaignState.SCANNING, false, "submitted")));
        durable.addAll(recordScans(campaign, now));
        LOG.info("campaign {} ({}) submitted for pools {} by {}", id, spec.name(), spec.pools(), by);
        publishPlanned(campaign);
        return committed(durable).thenApply(v -> id);
    }

    /**
     * The space check of every pool the campaign scans that has none: at submission, and again when a campaign
     * taken over is still scanning without one (its leader was fenced before the scan's record committed).
     * Without it the campaign would plan from no inventory and finish having merged nothing.
     */
    private List<CompletableFuture<Void>> recordScans(Campaign campaign, Instant now) {
        Set<String> scanned = campaign.jobsOf(JobKind.SPACE_CHECK).stream()
                .map(job -> job.job().pool())
                .collect(Collectors.toSet());
        List<CompletableFuture<Void>> durable = new ArrayList<>();
        for (String pool : campaign.spec.scannedPools()) {
            if (!scanned.contains(pool)) {
                SpaceCheckJob scan = new SpaceCheckJob(
                        Schema.VERSION, campaign.id + "-scan-" + pool, campaign.id, pool, now, List.of());
                durable.add(record(campaign, CampaignJob.planned(campaign.id, scan, null, null, now)));
            }
        }
        return durable;
    }

    CompletableFuture<Optional<CampaignReport>> report(String id) {
        return on(() -> Optional.ofNullable(campaigns.get(id))
                .filter(Campaign::isComplete)
                .map(c -> c.report(clock.instant())));
    }

    /**
     * One page of the campaigns in {@code states} (every state when empty), summed up, ordered by id (ids
     * start with their submission time, so that is also the order they came in). Reports are made for the
     * page's campaigns only.
     */
    CompletableFuture<Page<CampaignReport>> page(Page.Request request, Set<CampaignState> states) {
        return on(() -> {
            List<Campaign> matching = campaigns.values().stream()
                    .filter(Campaign::isComplete) // a standby may hold a job's event before its campaign's
                    .filter(c -> states.isEmpty() || states.contains(c.state))
                    .sorted(Comparator.comparing(c -> c.id))
                    .toList();
            Page<Campaign> page = request.page(matching, c -> c.id);
            Instant now = clock.instant();
            return new Page<>(
                    page.items().stream()
                            .map(c -> c.report(now, false).summary())
                            .toList(),
                    page.next());
        });
    }

    /**
     * One page of a campaign's backup requests in {@code statuses} (every status when empty), oldest first;
     * empty when there is no such campaign. A campaign that takes no backup requests has none.
     */
    CompletableFuture<Optional<Page<BackupRequestView>>> requests(
            String id, Page.Request request, Set<BackupRequest.Status> statuses) {
        return on(() -> Optional.ofNullable(campaigns.get(id))
                .filter(Campaign::isComplete)
                .map(campaign -> {
                    List<BackupRequestView> matching = campaign.requests.values().stream()
                            .filter(r -> statuses.isEmpty() || statuses.contains(r.status()))
                            .map(BackupRequestView::of)
                            .sorted(Comparator.comparing(BackupRequestView::cursor))
                            .toList();
                    return request.page(matching, BackupRequestView::cursor);
                }));
    }

    /** Stops publishing; jobs already out finish and are recorded. */
    CompletableFuture<Optional<CampaignReport>> cancel(String id, Actor by) {
        return change(
                id,
                "cancel",
                by,
                c -> new CampaignStateChanged(
                        Schema.VERSION, id, null, clock.instant(), CampaignState.CANCELLED, c.paused, "cancelled"));
    }

    CompletableFuture<Optional<CampaignReport>> pause(String id, Actor by) {
        return change(
                id,
                "pause",
                by,
                c -> new CampaignStateChanged(Schema.VERSION, id, null, clock.instant(), c.state, true, "paused"));
    }

    CompletableFuture<Optional<CampaignReport>> resume(String id, Actor by) {
        return change(
                id,
                "resume",
                by,
                c -> new CampaignStateChanged(Schema.VERSION, id, null, clock.instant(), c.state, false, "resumed"));
    }

    /**
     * Approves the campaign's proposed space recoveries ({@code onInsufficientSpace: ask}): every one, or
     * only {@code recoveryId}. Fails with {@link IllegalArgumentException} when there is no such proposal.
     */
    CompletableFuture<Optional<CampaignReport>> approve(String id, String recoveryId, Actor by) {
        return on(() -> {
                    Campaign campaign = campaigns.get(id);
                    if (campaign == null) {
                        return CompletableFuture.completedFuture(Optional.<CampaignReport>empty());
                    }
                    List<CompletableFuture<Void>> durable = new ArrayList<>();
                    List<CampaignRecovery> proposed = campaign.recoveries.values().stream()
                            .filter(r -> r.status() == RecoveryStatus.PROPOSED)
                            .filter(r -> recoveryId == null || r.recoveryId().equals(recoveryId))
                            .toList();
                    if (proposed.isEmpty() || campaign.state.isOver()) {
                        throw new IllegalArgumentException("campaign " + id + " has no recovery "
                                + (recoveryId == null ? "" : recoveryId + " ")
                                + "waiting for approval"
                                + (campaign.state.isOver() ? " (it is " + campaign.state.wireName() + ")" : ""));
                    }
                    for (CampaignRecovery recovery : proposed) {
                        durable.add(record(
                                campaign,
                                recovery.with(
                                        RecoveryStatus.RUNNING, "approved by " + by.principal(), clock.instant())));
                        LOG.info("campaign {}: recovery {} approved by {}", id, recovery.recoveryId(), by);
                    }
                    durable.add(recordAction(
                            campaign,
                            "approve",
                            by,
                            "recoveries "
                                    + String.join(
                                            ", ",
                                            proposed.stream()
                                                    .map(CampaignRecovery::recoveryId)
                                                    .toList())));
                    step(campaign);
                    Optional<CampaignReport> report = Optional.of(campaign.report(clock.instant()));
                    // Answered once the approval is committed: a caller told "approved" finds it so after any takeover.
                    return committed(durable).thenApply(v -> report);
                })
                .thenCompose(approved -> approved);
    }

    /** Changes a campaign's state; completes with its report once the change is committed. */
    private CompletableFuture<Optional<CampaignReport>> change(
            String id, String action, Actor by, Function<Campaign, CampaignStateChanged> event) {
        return on(() -> {
                    Campaign campaign = campaigns.get(id);
                    if (campaign == null) {
                        return CompletableFuture.completedFuture(Optional.<CampaignReport>empty());
                    }
                    CompletableFuture<Void> durable = CompletableFuture.completedFuture(null);
                    if (!campaign.state.isOver()) {
                        CampaignStateChanged changed = event.apply(campaign);
                        durable = committed(List.of(
                                record(
                                        campaign,
                                        new CampaignStateChanged(
                                                changed.schemaVersion(),
                                                changed.campaignId(),
                                                changed.jobId(),
                                                changed.at(),
                                                changed.state(),
                                                changed.paused(),
                                                changed.reason() + " by " + by.principal())),
                                recordAction(campaign, action, by, null)));
                        LOG.info("campaign {} {} by {}", id, changed.reason(), by);
                    }
                    Optional<CampaignReport> report = Optional.of(campaign.report(clock.instant()));
                    return durable.thenApply(v -> report);
                })
                .thenCompose(changed -> changed);
    }

    /**
     * A change the API answers for could not be committed: the caller is told so, never "done". It is not known
     * to be undone either: a leader that stays leader appends what failed again on its next tick.
     */
    static final class NotRecordedException extends RuntimeException {
        NotRecordedException(Throwable cause) {
            super(
                    "not recorded (" + cause.getMessage() + "); it is not known to be done: a leader that goes on "
                            + "leading appends it again, a fenced one never does; look before trying again",
                    cause);
        }
    }

    /** Completes when every record is committed; fails with {@link NotRecordedException} when one is not. */
    private static CompletableFuture<Void> committed(List<CompletableFuture<Void>> records) {
        return CompletableFuture.allOf(records.toArray(CompletableFuture[]::new))
                .exceptionallyCompose(error -> CompletableFuture.failedFuture(new NotRecordedException(
                        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error)));
    }

    /** Records who did what to the campaign, under the next number of its history. */
    private CompletableFuture<Void> recordAction(Campaign campaign, String action, Actor by, String detail) {
        return record(
                campaign,
                new CampaignAction(
                        Schema.VERSION,
                        campaign.id,
                        null,
                        clock.instant(),
                        campaign.actions.size() + 1,
                        action,
                        by.principal(),
                        by.address(),
                        detail));
    }

    /** Records a result; completes once it is durable (or when there is nothing to record). */
    CompletableFuture<Void> onResult(JobResult result) {
        return on(() -> {
                    try (LogContext context =
                            LogContext.ofResult(result.campaignId(), result.jobId(), result.pool(), result.worker())) {
                        return recordResult(result);
                    }
                })
                .thenCompose(f -> f);
    }

    private CompletableFuture<Void> recordResult(JobResult result) {
        Campaign campaign = campaigns.get(result.campaignId());
        CampaignJob job = campaign == null ? null : campaign.jobs.get(result.jobId());
        if (job == null) {
            return CompletableFuture.<Void>completedFuture(null);
        }
        if (job.status() == JobStatus.FINISHED && (!givenUp(job.result()) || sameVerdict(job.result(), result))) {
            // Seen before; if its event never became durable, this redelivery must wait for it.
            return recordAgain(campaign, job.key());
        }
        if (job.status() == JobStatus.FINISHED) {
            // A worker that was frozen (SIGSTOP, a hung mount) came back and finished the job the
            // coordinator gave up on: its files say what happened, so the report must say it too.
            LOG.warn(
                    "campaign {}: job {}, given up as {}, has a result after all from {}: {}",
                    campaign.id,
                    job.jobId(),
                    job.result().problem().reason(),
                    result.worker(),
                    result.outcome().wireName());
        }
        campaign.sent(job.jobId());
        metrics.result(result);
        CompletableFuture<Void> durable = record(campaign, job.with(JobStatus.FINISHED, result, clock.instant()));
        step(campaign);
        return durable;
    }

    void onProgress(JobProgress progress) {
        thread.execute(() -> {
            Campaign campaign = campaigns.get(progress.campaignId());
            CampaignJob job = campaign == null ? null : campaign.jobs.get(progress.jobId());
            if (job != null && job.status() != JobStatus.FINISHED) {
                campaign.progress.put(progress.jobId(), progress);
                leases.signOfLife(progress.jobId(), progress.worker(), clock.instant());
                emit(campaign, "progress", () -> progress, false);
            }
        });
    }

    /** Moves every campaign on: publishes what its limits allow, plans after scans, finishes. */
    void tick() {
        thread.execute(() -> {
            List<CampaignEvent> again = new ArrayList<>(unrecorded.values());
            unrecorded.clear();
            again.forEach(event -> record(campaigns.get(event.campaignId()), event));
            checkLeases();
            foldDue(clock.instant());
            campaigns.values().forEach(this::step);
        });
    }

    void step(Campaign campaign) {
        // On the campaign thread: every line this step logs, and the steps it leads to, name the campaign.
        try (LogContext context = LogContext.ofCampaign(campaign.id)) {
            stepWithin(campaign);
        }
    }

    private void stepWithin(Campaign campaign) {
        if (campaign.state == CampaignState.STANDING
                || (campaign.state == CampaignState.CANCELLED && !campaign.openRequests.isEmpty())) {
            backupRequests.step(campaign);
            return;
        }
        if (campaign.state.isOver()) {
            return;
        }
        if (campaign.state == CampaignState.SCANNING) {
            recordScans(campaign, clock.instant());
            publishPlanned(campaign);
            if (scansDone(campaign)) {
                plan(campaign);
            }
            return;
        }
        recoverRefusals(campaign);
        advanceRecoveries(campaign);
        if (!campaign.paused) {
            publishPlanned(campaign);
        }
        if (campaign.allFinished()) {
            record(
                    campaign,
                    new CampaignStateChanged(
                            Schema.VERSION,
                            campaign.id,
                            null,
                            clock.instant(),
                            CampaignState.FINISHED,
                            campaign.paused,
                            "every job has a result"));
            LOG.info("campaign {} finished", campaign.id);
        }
    }

    /**
     * Plans a recovery for every merge refused for space that has none yet. Derived from the recorded
     * results rather than done when a result arrives: a coordinator that stopped after recording the
     * refusal but before recording its recovery plans it on its next step.
     */
    private void recoverRefusals(Campaign campaign) {
        if (campaign.spec.onInsufficientSpace() == SpacePolicy.REFUSE) {
            return;
        }
        for (CampaignJob job : List.copyOf(campaign.refusedForSpace.values())) {
            recover(campaign, job, job.result());
        }
    }

    /**
     * Plans a recovery for a merge the worker refused for space, unless the campaign refuses, one was
     * planned already, or the merge is itself a recovery's step (that recovery fails instead).
     */
    private void recover(Campaign campaign, CampaignJob job, JobResult result) {
        CampaignSpec spec = campaign.spec;
        if (spec.onInsufficientSpace() == SpacePolicy.REFUSE
                || campaign.recoveries.containsKey(job.jobId())
                || campaign.recoveryOfStep(job.jobId()) != null
                || !(job.job() instanceof MergeJob)) {
            campaign.refusedForSpace.remove(job.jobId()); // none will be planned for it: not asked again
            return;
        }
        List<VolumeInventory> fleet = new ArrayList<>();
        for (CampaignJob scan : campaign.jobsOf(JobKind.SPACE_CHECK)) {
            if (scan.result() != null && scan.result().outcome() == Outcome.SUCCEEDED) {
                fleet.addAll(inventory.scannedOrLatest(scan.result().inventory()));
            }
        }
        Map<String, Long> claimed = new HashMap<>();
        for (CampaignRecovery other : campaign.recoveries.values()) {
            if (!other.status().isOver()) {
                SpaceRecovery.claims(other).forEach((k, v) -> claimed.merge(k, v, Long::sum));
            }
        }
        Set<String> busyChains = new HashSet<>();
        for (CampaignJob merge : campaign.jobsOf(JobKind.MERGE)) {
            if (merge.status() != JobStatus.FINISHED && merge.job() instanceof MergeJob m) {
                busyChains.add(m.chain());
            }
        }
        Map<String, Object> figures = result.problem().figures();
        long required = figures.get("requiredBytes") instanceof Number n ? n.longValue() : 0;
        long available = figures.get("availableBytes") instanceof Number n ? n.longValue() : 0;
        CampaignRecovery recovery = SpaceRecovery.plan(
                campaign.id,
                spec,
                new SpaceRecovery.Need(
                        new Planner.PlannedJob((MergeJob) job.job(), job.host(), job.volume(), required),
                        job.job().pool(),
                        "refused",
                        required,
                        available),
                fleet,
                claimed,
                busyChains,
                clock.instant());
        record(campaign, recovery);
        LOG.info(
                "campaign {}: {} refused for space; recovery {} {}: {}",
                campaign.id,
                job.jobId(),
                recovery.recoveryId(),
                recovery.status().wireName(),
                recovery.explanation());
    }

    /**
     * Moves every running recovery one step on: the first step without a job gets one (planned, so the
     * limits publish it), a refused or failed step fails the recovery, and all steps succeeded finish
     * it. Derived from recorded jobs only, so after a restart no finished step runs again.
     */
    private void advanceRecoveries(Campaign campaign) {
        for (CampaignRecovery recovery : List.copyOf(campaign.recoveries.values())) {
            if (recovery.status() != RecoveryStatus.RUNNING) {
                continue;
            }
            CampaignRecovery.Step next = null;
            String failure = null;
            boolean waiting = false;
            for (CampaignRecovery.Step step : recovery.steps()) {
                CampaignJob job = campaign.jobs.get(step.job().jobId());
                if (job == null) {
                    next = step;
                    break;
                }
                if (job.status() != JobStatus.FINISHED) {
                    waiting = true;
                    break;
                }
                if (job.result().outcome() != Outcome.SUCCEEDED) {
                    failure = "%s %s: %s"
                            .formatted(
                                    step.action(),
                                    job.result().outcome().wireName(),
                                    job.result().problem().message());
                    break;
                }
            }
            Instant now = clock.instant();
            if (failure != null) {
                record(campaign, recovery.with(RecoveryStatus.FAILED, failure, now));
                LOG.warn("campaign {}: recovery {} failed: {}", campaign.id, recovery.recoveryId(), failure);
            } else if (next != null) {
                record(campaign, CampaignJob.planned(campaign.id, next.job(), next.host(), next.volume(), now));
            } else if (!waiting) {
                record(campaign, recovery.with(RecoveryStatus.SUCCEEDED, null, now));
                LOG.info("campaign {}: recovery {} succeeded", campaign.id, recovery.recoveryId());
            }
        }
    }

    /**
     * Whether every pool answered its space check and every page of the inventories it names has been
     * read, or had its time.
     */
    private boolean scansDone(Campaign campaign) {
        Instant deadline = campaign.submittedAt.plus(campaign.spec.scanTimeoutDuration());
        boolean late = clock.instant().isAfter(deadline);
        if (!inventory.caughtUp()) {
            return false; // a scan missing now may be on the topic still unread: a new leader plans as the old
        }
        return late
                || campaign.jobsOf(JobKind.SPACE_CHECK).stream()
                        .allMatch(j -> j.status() == JobStatus.FINISHED && inventoryRead(j));
    }

    /** A finished space check's inventories are all here, or there is none to wait for (it failed). */
    private boolean inventoryRead(CampaignJob scan) {
        return scan.result().outcome() != Outcome.SUCCEEDED
                || inventory.scans(scan.result().inventory()).isPresent();
    }

    private void plan(Campaign campaign) {
        Instant now = clock.instant();
        Map<String, List<VolumeInventory>> inventories = new HashMap<>();
        List<CampaignSkip> unreachable = new ArrayList<>();
        for (CampaignJob scan : campaign.jobsOf(JobKind.SPACE_CHECK)) {
            String pool = scan.job().pool();
            JobResult result = scan.result();
            // A pool whose space check gave no whole inventory is skipped as a whole ("*"), saying why.
            java.util.function.BiFunction<String, String, CampaignSkip> poolSkipped =
                    (reason, message) -> new CampaignSkip(
                            Schema.VERSION,
                            campaign.id,
                            scan.jobId(),
                            now,
                            pool,
                            result == null ? null : result.worker(),
                            "*",
                            reason,
                            message);
            if (result == null) {
                unreachable.add(poolSkipped.apply(
                        "unreachable",
                        "no worker of pool " + pool + " answered the space check in "
                                + campaign.spec.scanTimeoutDuration()));
            } else if (result.outcome() != Outcome.SUCCEEDED) {
                unreachable.add(
                        poolSkipped.apply("scan-failed", result.problem().message()));
            } else {
                Optional<List<VolumeInventory>> scanned = inventory.scans(result.inventory());
                if (scanned.isPresent()) {
                    inventories.put(pool, scanned.get());
                } else {
                    unreachable.add(poolSkipped.apply(
                            "inventory-incomplete",
                            "the inventory of the space check (" + incomplete(result) + ") did not arrive whole on "
                                    + "chainmerge.inventory in " + campaign.spec.scanTimeoutDuration()));
                }
            }
        }
        Planner.Plan plan = Planner.plan(campaign.id, campaign.spec, inventories, now);
        unreachable.forEach(skip -> record(campaign, skip));
        plan.skips().forEach(skip -> record(campaign, skip));
        for (CampaignRecovery recovery : plan.recoveries()) {
            if (!campaign.recoveries.containsKey(recovery.jobId())) {
                record(campaign, recovery);
            }
        }
        for (Planner.PlannedJob planned : plan.jobs()) {
            if (!campaign.jobs.containsKey(planned.job().jobId())) {
                record(
                        campaign,
                        CampaignJob.planned(campaign.id, planned.job(), planned.host(), planned.volume(), now));
            }
        }
        record(
                campaign,
                new CampaignStateChanged(
                        Schema.VERSION,
                        campaign.id,
                        null,
                        now,
                        CampaignState.RUNNING,
                        campaign.paused,
                        "planned " + plan.jobs().size() + " merges, "
                                + plan.recoveries().size() + " space recoveries, "
                                + (plan.skips().size() + unreachable.size()) + " skipped"));
        LOG.info(
                "campaign {} planned {} merges; {} disks skipped",
                campaign.id,
                plan.jobs().size(),
                plan.skips().size() + unreachable.size());
        step(campaign);
    }

    /** The volumes of a space check whose inventory is not whole here, with the pages each scan has. */
    private String incomplete(JobResult scan) {
        return scan.inventory().stream()
                .filter(volume -> inventory.scan(volume).isEmpty())
                .map(volume -> volume.key() + " scan " + volume.scanId() + ", " + volume.pages() + " pages")
                .collect(java.util.stream.Collectors.joining("; "));
    }

    /**
     * Publishes planned jobs, oldest first, as far as the campaign's limits allow. A campaign's step looks at
     * the jobs that could go only ({@link Campaign#runnable}, per volume, in plan order), against counts of
     * the jobs out kept as they change, so a result costs its volume's next jobs, not the whole campaign. A
     * standing campaign's jobs go most urgent first, so it sorts the jobs it has open on each step.
     */
    void publishPlanned(Campaign campaign) {
        if (campaign.state != CampaignState.STANDING) {
            publishRunnable(campaign);
            return;
        }
        Limits limits = campaign.spec.limits();
        Map<VolumeKey, Integer> perVolume = new HashMap<>();
        Map<String, Integer> perPool = new HashMap<>();
        Set<String> scanning = new HashSet<>();
        boolean standing = campaign.state == CampaignState.STANDING;
        Instant now = clock.instant();
        int overall = 0;
        List<CampaignJob> waiting = new ArrayList<>();
        for (CampaignJob job : campaign.unfinished.values()) {
            boolean out = job.status() == JobStatus.PUBLISHED || campaign.publishing(job.jobId());
            if (!heavy(job)) {
                if (job.status() == JobStatus.PLANNED && !out) {
                    waiting.add(job);
                } else if (out && job.job().kind() == JobKind.SPACE_CHECK && !scanLate(campaign, job, now)) {
                    scanning.add(job.job().pool());
                }
                continue;
            }
            if (out) {
                perVolume.merge(VolumeKey.of(job), 1, Integer::sum);
                perPool.merge(job.job().pool(), 1, Integer::sum);
                overall++;
            } else if (job.status() == JobStatus.PLANNED) {
                waiting.add(job);
            }
        }
        if (standing) {
            waiting.sort(BackupRequests.mostUrgentFirst(campaign));
        }
        campaign.waitingFor.clear();
        for (CampaignJob job : waiting) {
            if (!poolReady(job.job().pool())) {
                continue;
            }
            if (standing
                    && job.job().kind() == JobKind.SPACE_CHECK
                    && !scanning.add(job.job().pool())) {
                continue; // one scan of a pool at a time; requests that came later wait for the next
            }
            if (backupRequests.refusedPastDeadline(campaign, job, now)) {
                continue;
            }
            if (heavy(job) && outsideWindows(campaign, job, now)) {
                continue; // published when a window opens; a tick comes at least every `tick`
            }
            if (ChainLeases.writes(job)) {
                ChainLeases.Holder holder = chains.heldByAnother(job);
                if (holder != null) {
                    campaign.waitingFor.put(
                            job.jobId(),
                            holder.campaignId().equals(campaign.id)
                                    ? "its chain is held by job " + holder.jobId()
                                    : "its chain is held by job " + holder.jobId() + " of campaign "
                                            + holder.campaignId());
                    continue;
                }
            }
            if (heavy(job)) {
                VolumeKey volume = VolumeKey.of(job);
                if (perVolume.getOrDefault(volume, 0) >= limits.perVolume()
                        || (limits.perPool() > 0
                                && perPool.getOrDefault(job.job().pool(), 0) >= limits.perPool())
                        || (limits.overall() > 0 && overall >= limits.overall())) {
                    continue;
                }
                String full = VolumeBudget.counts(job) ? volumes.fullFor(job) : null;
                if (full != null) {
                    campaign.waitingFor.put(job.jobId(), full);
                    continue;
                }
                perVolume.merge(volume, 1, Integer::sum);
                perPool.merge(job.job().pool(), 1, Integer::sum);
                overall++;
            }
            publish(campaign, job);
        }
    }

    /**
     * {@link #publishPlanned} for a campaign that is not standing: the light jobs (space checks, set-parents)
     * that can go, then merges and transplants in plan order across volumes (a merge of the heads of the
     * volumes' queues), leaving a volume once it is full, a pool once it is, all of them at the overall limit.
     * Within a chain the plan's order holds: a chain's next job waits for the lease of the one out.
     */
    private void publishRunnable(Campaign campaign) {
        Limits limits = campaign.spec.limits();
        Instant now = clock.instant();
        campaign.waitingFor.clear();
        for (CampaignJob job : List.copyOf(campaign.runnableLight.values())) {
            if (!poolReady(job.job().pool()) || backupRequests.refusedPastDeadline(campaign, job, now)) {
                continue;
            }
            if (ChainLeases.writes(job) && chainHeld(campaign, job)) {
                continue;
            }
            publish(campaign, job);
        }
        record Head(long position, VolumeKey volume, CampaignJob job) {}
        PriorityQueue<Head> heads = new PriorityQueue<>(Comparator.comparingLong(Head::position));
        for (Map.Entry<VolumeKey, java.util.TreeMap<Long, CampaignJob>> queue : campaign.runnable.entrySet()) {
            VolumeKey volume = queue.getKey();
            if (full(campaign, limits, volume)) {
                continue;
            }
            Map.Entry<Long, CampaignJob> first = queue.getValue().firstEntry();
            heads.add(new Head(first.getKey(), volume, first.getValue()));
        }
        while (!heads.isEmpty() && !(limits.overall() > 0 && campaign.outOverall >= limits.overall())) {
            Head head = heads.poll();
            CampaignJob job = head.job();
            VolumeKey volume = head.volume();
            if (full(campaign, limits, volume) || !poolReady(job.job().pool())) {
                continue; // every later job of this volume would wait too
            }
            // The next of this volume, taken before publishing takes this one out of the queue.
            java.util.TreeMap<Long, CampaignJob> queue = campaign.runnable.get(volume);
            Map.Entry<Long, CampaignJob> next = queue == null ? null : queue.higherEntry(head.position());
            if (next != null) {
                heads.add(new Head(next.getKey(), volume, next.getValue()));
            }
            if (backupRequests.refusedPastDeadline(campaign, job, now)) {
                continue;
            }
            if (outsideWindows(campaign, job, now)) {
                continue; // published when a window opens; a tick comes at least every `tick`
            }
            if (ChainLeases.writes(job) && chainHeld(campaign, job)) {
                continue;
            }
            String budget = VolumeBudget.counts(job) ? volumes.fullFor(job) : null;
            if (budget != null) {
                campaign.waitingFor.put(job.jobId(), budget);
                continue;
            }
            publish(campaign, job);
        }
    }

    /** Whether the campaign's limits let no further merge or transplant out on {@code volume}. */
    private static boolean full(Campaign campaign, Limits limits, VolumeKey volume) {
        return campaign.outPerVolume.getOrDefault(volume, 0) >= limits.perVolume()
                || (limits.perPool() > 0 && campaign.outPerPool.getOrDefault(volume.pool(), 0) >= limits.perPool());
    }

    /** Whether another job holds the chain {@code job} writes; notes what it waits for. */
    private boolean chainHeld(Campaign campaign, CampaignJob job) {
        ChainLeases.Holder holder = chains.heldByAnother(job);
        if (holder == null) {
            return false;
        }
        campaign.waitingFor.put(
                job.jobId(),
                holder.campaignId().equals(campaign.id)
                        ? "its chain is held by job " + holder.jobId()
                        : "its chain is held by job " + holder.jobId() + " of campaign " + holder.campaignId());
        return true;
    }

    /** Takes a valid backup event; see {@link BackupRequests#accept}. */
    CompletableFuture<String> accept(BackupEvent event) {
        return on(() -> backupRequests.accept(event)).thenCompose(f -> f);
    }

    /** Whether a space check sent out has had its time without an answer. */
    static boolean scanLate(Campaign campaign, CampaignJob scan, Instant now) {
        return scan.status() == JobStatus.PUBLISHED && now.isAfter(scan.at().plus(campaign.spec.scanTimeoutDuration()));
    }

    /** Whether the pool's job topic exists; starts creating it (once) when it may not. */
    private boolean poolReady(String pool) {
        if (readyPools.contains(pool)) {
            return true;
        }
        if (creatingPools.add(pool)) {
            topics.ensurePool(pool)
                    .whenCompleteAsync(
                            (ok, error) -> {
                                creatingPools.remove(pool);
                                if (error != null) {
                                    LOG.warn("{}; trying again", error.getMessage());
                                } else {
                                    readyPools.add(pool);
                                    campaigns.values().forEach(this::step);
                                }
                            },
                            thread);
        }
        return false;
    }

    /**
     * Whether {@code job} must wait for one of the campaign's windows: a merge or a transplant, unless a
     * dry run (which reads a few headers), at a time none of the windows holds.
     */
    private static boolean outsideWindows(Campaign campaign, CampaignJob job, Instant now) {
        MergeWindows windows = campaign.spec.mergeWindows();
        if (windows == null || (job.job() instanceof MergeJob merge && merge.dryRun())) {
            return false;
        }
        return !windows.contains(now);
    }

    private static boolean heavy(CampaignJob job) {
        return Campaign.heavy(job);
    }

    private void publish(Campaign campaign, CampaignJob job) {
        campaign.sending(job.jobId());
        if (ChainLeases.writes(job)) {
            chains.take(job); // free: publishPlanned checked
        }
        if (VolumeBudget.counts(job)) {
            volumes.take(job);
        }
        Job message = job.job();
        publisher
                .publish(message)
                .whenCompleteAsync(
                        (ok, error) -> {
                            if (!campaign.sent(job.jobId())) {
                                return; // its result came first and recorded it finished
                            }
                            if (error != null) {
                                LOG.warn(
                                        "publishing job {} failed; it stays planned and is sent again: {}",
                                        job.jobId(),
                                        error.toString());
                                chains.release(job.jobId());
                                volumes.release(job.jobId());
                                return;
                            }
                            metrics.published(message);
                            CampaignJob current = campaign.jobs.get(job.jobId());
                            if (current != null && current.status() == JobStatus.PLANNED) {
                                record(campaign, current.published(clock.instant()));
                                leases.placed(job.jobId(), ok);
                            }
                        },
                        thread);
    }

    /** Applies an event and appends it to the log; also {@link BackupRequests}'s way to record. */
    CompletableFuture<Void> record(Campaign campaign, CampaignEvent event) {
        campaign.apply(event);
        stream(campaign, event);
        if (event instanceof CampaignJob job) {
            lease(job, clock.instant());
        } else if (event instanceof CampaignStateChanged changed
                && changed.state().isOver()) {
            scheduleFold(campaign);
        }
        return store.append(event)
                .whenCompleteAsync(
                        (ok, error) -> {
                            if (error != null) {
                                LOG.warn(
                                        "recording {} failed, will append it again: {}", event.key(), error.toString());
                                unrecorded.putIfAbsent(event.key(), event);
                            } else {
                                unrecorded.remove(event.key(), event);
                            }
                        },
                        thread);
    }

    CampaignStreams streams() {
        return streams;
    }

    /**
     * Follows a campaign live: {@code subscriber} gets the whole report first (unless {@code lastEventId} is the
     * campaign's latest change, so nothing was missed), then every change. Taken on this thread, so no change
     * falls between the report and the first change streamed. False when there is no such campaign.
     */
    CompletableFuture<Boolean> subscribe(String id, String lastEventId, CampaignStreams.Subscriber subscriber) {
        return on(() -> {
            Campaign campaign = campaigns.get(id);
            if (campaign == null || !campaign.isComplete()) {
                return false;
            }
            if (streams.sequenceOf(lastEventId) != campaign.changes) {
                subscriber.offer(streams.frame(campaign.changes, "snapshot", campaign.report(clock.instant())), false);
            }
            if (campaign.state.isOver()) {
                subscriber.offer(
                        streams.frame(
                                campaign.changes,
                                "end",
                                campaign.report(clock.instant(), false).summary()),
                        true);
            } else {
                streams.add(subscriber);
            }
            return true;
        });
    }

    /** A recorded change as its streams tell it; changes callers have no use for (submission, fold) are not. */
    private void stream(Campaign campaign, CampaignEvent event) {
        if (event instanceof CampaignJob job) {
            emit(campaign, "job", () -> campaign.view(job), false);
            totalsDue(campaign);
        } else if (event instanceof CampaignStateChanged changed) {
            Map<String, Object> state = new LinkedHashMap<>();
            state.put("campaignId", campaign.id);
            state.put("state", changed.state());
            state.put("paused", changed.paused());
            state.put("reason", changed.reason());
            state.put("at", changed.at());
            emit(campaign, "state", () -> state, false);
            if (changed.state().isOver()) {
                emit(
                        campaign,
                        "end",
                        () -> campaign.report(clock.instant(), false).summary(),
                        true);
            }
        } else if (event instanceof CampaignSkip skip) {
            emit(campaign, "skip", () -> skip, false);
            totalsDue(campaign);
        } else if (event instanceof CampaignRecovery recovery) {
            emit(campaign, "recovery", () -> recovery, false);
            totalsDue(campaign);
        } else if (event instanceof CampaignAction action) {
            emit(campaign, "action", () -> action, false);
        }
    }

    /** Counts a change; writes it out only when someone follows the campaign. */
    private void emit(Campaign campaign, String event, java.util.function.Supplier<Object> data, boolean last) {
        long sequence = ++campaign.changes;
        if (streams.watched(campaign.id)) {
            streams.publish(campaign.id, streams.frame(sequence, event, data.get()), last);
        }
    }

    /**
     * The totals, once after the changes queued on this thread: adding them up costs the campaign's jobs, so a
     * burst of results is summed once, not once per result.
     */
    private void totalsDue(Campaign campaign) {
        if (campaign.totalsDue || !streams.watched(campaign.id)) {
            return;
        }
        campaign.totalsDue = true;
        thread.execute(() -> {
            campaign.totalsDue = false;
            if (!campaign.state.isOver()) {
                emit(
                        campaign,
                        "totals",
                        () -> campaign.report(clock.instant(), false).totals(),
                        false);
            }
        });
    }

    /** Appends again the event of {@code key} whose append failed, if there is one; completes once it is durable. */
    CompletableFuture<Void> recordAgain(Campaign campaign, String key) {
        CampaignEvent failed = unrecorded.remove(key);
        return failed == null ? CompletableFuture.completedFuture(null) : record(campaign, failed);
    }

    /** Queues a campaign that is over to fold {@code campaigns.retention} after it ended. */
    private void scheduleFold(Campaign campaign) {
        if (campaign.summary == null && campaign.state.isOver() && campaign.stateAt != null) {
            folds.add(new Fold(campaign.stateAt.plus(retention), campaign.id));
        }
    }

    /**
     * Folds every campaign whose retention ran out: its totals are written as a summary, then its jobs,
     * skips and recoveries get tombstones, so they no longer cost a restart or heap. Costs the folds due.
     */
    private void foldDue(Instant now) {
        while (!folds.isEmpty() && !folds.peek().due().isAfter(now)) {
            Campaign campaign = campaigns.get(folds.poll().campaignId());
            if (campaign == null || campaign.summary != null || !campaign.state.isOver()) {
                continue;
            }
            boolean jobsOut = !campaign.nothingPublishing()
                    || !campaign.openRequests.isEmpty()
                    || campaign.unfinished.values().stream()
                            .anyMatch(j -> j.job().kind() != JobKind.SPACE_CHECK);
            if (jobsOut) {
                // A cancelled campaign's jobs already out still report (or stall and fail): fold after them.
                folds.add(new Fold(now.plus(FOLD_AGAIN), campaign.id));
                continue;
            }
            CampaignReport.Totals totals = campaign.report(now, false).totals();
            List<String> dropped = campaign.entityKeys();
            record(campaign, new CampaignSummarized(Schema.VERSION, campaign.id, null, now, totals, dropped.size()));
            dropped.forEach(store::tombstone);
            LOG.info(
                    "campaign {} folded to its totals, {} after it ended: {} jobs, skips and recoveries dropped",
                    campaign.id,
                    retention,
                    dropped.size());
        }
    }

    /** Whether the event of {@code key} failed to append and waits to be appended again. */
    boolean unrecorded(String key) {
        return unrecorded.containsKey(key);
    }

    private <T> CompletableFuture<T> on(java.util.concurrent.Callable<T> work) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return work.call();
                    } catch (RuntimeException e) {
                        throw e;
                    } catch (Exception e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                },
                thread);
    }

    /** Holds a lease while a job is out at its pool (space checks have their scan timeout instead). */
    private void lease(CampaignJob job, Instant now) {
        if (job.status() == JobStatus.FINISHED) {
            leases.release(job.jobId());
            chains.release(job.jobId());
            volumes.release(job.jobId());
        } else if (job.status() == JobStatus.PUBLISHED && job.job().kind() != JobKind.SPACE_CHECK) {
            leases.hold(job.campaignId(), job.jobId(), job.attempts(), now);
            if (VolumeBudget.counts(job)) {
                volumes.take(job); // at a takeover, every job out counts whatever the budget
            }
            if (ChainLeases.writes(job)) {
                ChainLeases.Holder other = chains.take(job);
                if (other != null) {
                    LOG.warn(
                            "campaign {}: job {} is out while job {} of campaign {} holds its chain {}",
                            job.campaignId(),
                            job.jobId(),
                            other.jobId(),
                            other.campaignId(),
                            job.job().key());
                }
            }
        }
    }

    /**
     * Publishes again, or fails, every job whose lease ran out. Costs the leases that ran out, not the
     * jobs in flight ({@link JobLeases}).
     */
    private void checkLeases() {
        Instant now = clock.instant();
        for (JobLeases.Expired expired : leases.expired(now)) {
            Campaign campaign = campaigns.get(expired.campaignId());
            CampaignJob job = campaign == null ? null : campaign.jobs.get(expired.jobId());
            if (job == null || job.status() != JobStatus.PUBLISHED) {
                leases.release(expired.jobId());
            } else if (job.attempts() < stalls.maxAttempts() && campaign.state != CampaignState.CANCELLED) {
                republish(campaign, job, expired);
            } else {
                failStalled(campaign, job, expired, now);
            }
        }
    }

    /** Sends a stalled job again, same id: the worker's job journal answers a copy of a job it ran or runs. */
    private void republish(Campaign campaign, CampaignJob job, JobLeases.Expired expired) {
        LOG.warn(
                "campaign {}: job {} showed no sign of life for {} ({}); publishing it again, attempt {} of {}",
                campaign.id,
                job.jobId(),
                stalls.readableTimeout(),
                lastLife(expired),
                job.attempts() + 1,
                stalls.maxAttempts());
        publisher
                .publish(job.job())
                .whenCompleteAsync(
                        (placement, error) -> {
                            CampaignJob current = campaign.jobs.get(job.jobId());
                            if (error != null) {
                                // Its lease is due again after another timeout, and this is tried again then.
                                LOG.warn("publishing job {} again failed: {}", job.jobId(), error.toString());
                            } else if (current != null
                                    && current.status() == JobStatus.PUBLISHED
                                    && current.attempts() == job.attempts()) {
                                record(campaign, current.published(clock.instant()));
                                leases.placed(job.jobId(), placement);
                                metrics.republished(job.job());
                            }
                        },
                        thread);
    }

    /** Gives a stalled job up after its last attempt: it fails, so its campaign goes on rather than hangs. */
    private void failStalled(Campaign campaign, CampaignJob job, JobLeases.Expired expired, Instant now) {
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("attempts", job.attempts());
        figures.put("stallTimeoutSeconds", stalls.timeout().toSeconds());
        if (expired.lastSignOfLife() != null) {
            figures.put("lastSignOfLife", expired.lastSignOfLife().toString());
            figures.put("lastWorker", expired.lastWorker());
        }
        String message = "no sign of life from pool %s for %s after %d attempt%s (%s)"
                .formatted(
                        job.job().pool(),
                        stalls.readableTimeout(),
                        job.attempts(),
                        job.attempts() == 1 ? "" : "s",
                        lastLife(expired));
        String worker = expired.lastWorker() != null ? expired.lastWorker() : job.host() != null ? job.host() : "none";
        fail(campaign, job, new Problem("failed", "stalled", message, null, null, null, figures), worker, now);
        metrics.stalled(job.job());
        LOG.warn("campaign {}: job {} failed: {}", campaign.id, job.jobId(), message);
        step(campaign);
    }

    /** Whether the coordinator made this result itself ({@code stalled}, {@code dead-letter}): a worker's result replaces it. */
    private static boolean givenUp(JobResult result) {
        return result.problem() != null && GIVEN_UP.contains(result.problem().reason());
    }

    private static boolean sameVerdict(JobResult recorded, JobResult result) {
        return result.outcome() == recorded.outcome()
                && result.problem() != null
                && result.problem().reason().equals(recorded.problem().reason());
    }

    /**
     * Verdicts a later result replaces: the coordinator's (a stall, a dead letter) and a worker's that gave
     * up waiting for its chain, which another delivery of the same job may have been holding all along.
     */
    private static final Set<String> GIVEN_UP = Set.of("stalled", "dead-letter", "in-use");

    private static String lastLife(JobLeases.Expired expired) {
        return expired.lastSignOfLife() == null
                ? "never heard from a worker"
                : "last heard from " + expired.lastWorker() + " at " + expired.lastSignOfLife();
    }

    /** Records a job the coordinator gives up on as failed, with {@code problem}; completes once durable. */
    private CompletableFuture<Void> fail(
            Campaign campaign, CampaignJob job, Problem problem, String worker, Instant now) {
        Duration took = Duration.between(job.at(), now);
        JobResult failed = JobResult.verdict(
                job.job(), worker, Outcome.FAILED, problem, job.at(), took.isNegative() ? Duration.ZERO : took);
        campaign.sent(job.jobId());
        metrics.result(failed);
        return record(campaign, job.with(JobStatus.FINISHED, failed, now));
    }

    /**
     * A job record a worker rejected: the job it stands for fails with the worker's reason. Matched by job
     * id, or, when the worker could not read one, by where the record was written; a letter that matches no
     * job waiting for a result is logged and counted. Completes once the failure is durable.
     */
    CompletableFuture<Void> onDeadLetter(DeadLetter letter) {
        return on(() -> {
                    String jobId = letter.jobId() != null
                            ? letter.jobId()
                            : leases.jobAt(new JobLeases.Placement(letter.topic(), letter.partition(), letter.offset()))
                                    .orElse(null);
                    String campaignId = letter.campaignId() != null || jobId == null
                            ? letter.campaignId()
                            : leases.campaignOf(jobId).orElse(null);
                    Campaign campaign = campaignId == null ? null : campaigns.get(campaignId);
                    CampaignJob job = campaign == null || jobId == null ? null : campaign.jobs.get(jobId);
                    if (job == null || job.status() == JobStatus.FINISHED) {
                        metrics.deadLetter(false);
                        LOG.warn(
                                "a dead letter from worker {} for {}-{}@{} (job {}, campaign {}) matches no job"
                                        + " waiting for a result; ignored: {}",
                                letter.worker(),
                                letter.topic(),
                                letter.partition(),
                                letter.offset(),
                                letter.jobId(),
                                letter.campaignId(),
                                letter.reason());
                        return CompletableFuture.<Void>completedFuture(null);
                    }
                    metrics.deadLetter(true);
                    Map<String, Object> figures = new LinkedHashMap<>();
                    figures.put("topic", letter.topic());
                    figures.put("partition", letter.partition());
                    figures.put("offset", letter.offset());
                    LOG.warn(
                            "campaign {}: job {} failed: worker {} rejected its record: {}",
                            campaign.id,
                            jobId,
                            letter.worker(),
                            letter.reason());
                    CompletableFuture<Void> durable = fail(
                            campaign,
                            job,
                            new Problem("invalid", "dead-letter", letter.reason(), null, null, null, figures),
                            letter.worker(),
                            clock.instant());
                    step(campaign);
                    return durable;
                })
                .thenCompose(f -> f);
    }

    /** A dead letter that could not be read is counted with those that match nothing. */
    CompletableFuture<Void> onUnreadableDeadLetter() {
        metrics.deadLetter(false);
        return CompletableFuture.completedFuture(null);
    }

    Map<CampaignState, Long> countsByState() {
        Map<CampaignState, Long> counts = new HashMap<>();
        campaigns.values().forEach(c -> counts.merge(c.state, 1L, Long::sum));
        return counts;
    }
}
