package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.BackupOutcome;
import io.chainmerge.common.campaign.BackupRequest;
import io.chainmerge.common.campaign.BackupRequest.Kind;
import io.chainmerge.common.campaign.BackupRequest.Status;
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
import io.chainmerge.common.campaign.JobStatus;
import io.chainmerge.common.campaign.RecoveryStatus;
import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.JobKind;
import io.chainmerge.common.message.JobProgress;
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
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
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
 * <p>A backup system's requests run in a standing campaign of their own (one per event source, state
 * {@code standing}): each request is recorded, with the jobs it becomes, before its event's offset is
 * committed, and its job ids come from its request id, so a redelivered event, or one read again after
 * a restart, finds its request and starts nothing. Its merges wait behind the campaign's limits like any
 * campaign's, the most urgent first (priority, then deadline); a request is answered on
 * {@code chainmerge.notifications} once every merge it became has a result, and recorded answered only
 * after that notification is acknowledged, so a restart in between sends it again rather than never.
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
    /** Events whose append failed (the broker was away), latest per key: appended again on every tick. */
    private final Map<String, CampaignEvent> unrecorded = new LinkedHashMap<>();

    private final TopicCreator topics;
    private final Set<String> readyPools = new HashSet<>();
    private final Set<String> creatingPools = new HashSet<>();

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

    Campaigns(
            ExecutorService thread,
            CampaignStore store,
            JobPublisher publisher,
            TopicCreator topics,
            CoordinatorMetrics metrics,
            Clock clock,
            InventoryView inventory,
            BackupNotifier notifier,
            BackupSettings backup) {
        this.thread = thread;
        this.inventory = inventory;
        this.notifier = notifier;
        this.backup = backup;
        this.topics = topics;
        this.store = store;
        this.publisher = publisher;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** Rebuilds every campaign from the event log. */
    CompletableFuture<Void> replay(List<CampaignEvent> events) {
        return on(() -> {
            for (CampaignEvent event : events) {
                campaigns.computeIfAbsent(event.campaignId(), Campaign::new).apply(event);
            }
            campaigns.values().removeIf(c -> !c.isComplete());
            LOG.info(
                    "replayed {} events: {} campaigns, {} not over",
                    events.size(),
                    campaigns.size(),
                    campaigns.values().stream().filter(c -> !c.state.isOver()).count());
            return null;
        });
    }

    CompletableFuture<String> submit(CampaignSpec spec) {
        return on(() -> {
            Instant now = clock.instant();
            String id = "c-" + ID_TIME.format(now) + "-"
                    + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
            Campaign campaign = new Campaign(id);
            campaigns.put(id, campaign);
            record(campaign, new CampaignSubmitted(Schema.VERSION, id, null, now, spec));
            record(
                    campaign,
                    new CampaignStateChanged(
                            Schema.VERSION, id, null, now, CampaignState.SCANNING, false, "submitted"));
            for (String pool : spec.scannedPools()) {
                SpaceCheckJob scan = new SpaceCheckJob(Schema.VERSION, id + "-scan-" + pool, id, pool, now, List.of());
                record(
                        campaign,
                        new CampaignJob(
                                Schema.VERSION, id, scan.jobId(), now, JobStatus.PLANNED, scan, null, null, null));
            }
            LOG.info("campaign {} ({}) submitted for pools {}", id, spec.name(), spec.pools());
            publishPlanned(campaign);
            return id;
        });
    }

    CompletableFuture<Optional<CampaignReport>> report(String id) {
        return on(() -> Optional.ofNullable(campaigns.get(id)).map(c -> c.report(clock.instant())));
    }

    CompletableFuture<List<CampaignReport>> list() {
        return on(() -> campaigns.values().stream()
                .map(c -> c.report(clock.instant(), false).summary())
                .toList());
    }

    /** Stops publishing; jobs already out finish and are recorded. */
    CompletableFuture<Optional<CampaignReport>> cancel(String id) {
        return change(
                id,
                c -> new CampaignStateChanged(
                        Schema.VERSION, id, null, clock.instant(), CampaignState.CANCELLED, c.paused, "cancelled"));
    }

    CompletableFuture<Optional<CampaignReport>> pause(String id) {
        return change(
                id, c -> new CampaignStateChanged(Schema.VERSION, id, null, clock.instant(), c.state, true, "paused"));
    }

    CompletableFuture<Optional<CampaignReport>> resume(String id) {
        return change(
                id,
                c -> new CampaignStateChanged(Schema.VERSION, id, null, clock.instant(), c.state, false, "resumed"));
    }

    /**
     * Approves the campaign's proposed space recoveries ({@code onInsufficientSpace: ask}): every one, or
     * only {@code recoveryId}. Fails with {@link IllegalArgumentException} when there is no such proposal.
     */
    CompletableFuture<Optional<CampaignReport>> approve(String id, String recoveryId) {
        return on(() -> {
            Campaign campaign = campaigns.get(id);
            if (campaign == null) {
                return Optional.empty();
            }
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
                record(campaign, recovery.with(RecoveryStatus.RUNNING, "approved", clock.instant()));
                LOG.info("campaign {}: recovery {} approved", id, recovery.recoveryId());
            }
            step(campaign);
            return Optional.of(campaign.report(clock.instant()));
        });
    }

    private CompletableFuture<Optional<CampaignReport>> change(
            String id, Function<Campaign, CampaignStateChanged> event) {
        return on(() -> {
            Campaign campaign = campaigns.get(id);
            if (campaign == null) {
                return Optional.empty();
            }
            if (!campaign.state.isOver()) {
                record(campaign, event.apply(campaign));
            }
            return Optional.of(campaign.report(clock.instant()));
        });
    }

    /** Records a result; completes once it is durable (or when there is nothing to record). */
    CompletableFuture<Void> onResult(JobResult result) {
        return on(() -> {
                    Campaign campaign = campaigns.get(result.campaignId());
                    CampaignJob job = campaign == null ? null : campaign.jobs.get(result.jobId());
                    if (job == null) {
                        return CompletableFuture.<Void>completedFuture(null);
                    }
                    if (job.status() == JobStatus.FINISHED) {
                        // Seen before; if its event never became durable, this redelivery must wait for it.
                        CampaignEvent failed = unrecorded.remove(job.key());
                        return failed == null
                                ? CompletableFuture.<Void>completedFuture(null)
                                : record(campaign, failed);
                    }
                    campaign.publishing.remove(job.jobId());
                    metrics.result(result);
                    CompletableFuture<Void> durable =
                            record(campaign, job.with(JobStatus.FINISHED, result, clock.instant()));
                    step(campaign);
                    return durable;
                })
                .thenCompose(f -> f);
    }

    void onProgress(JobProgress progress) {
        thread.execute(() -> {
            Campaign campaign = campaigns.get(progress.campaignId());
            CampaignJob job = campaign == null ? null : campaign.jobs.get(progress.jobId());
            if (job != null && job.status() != JobStatus.FINISHED) {
                campaign.progress.put(progress.jobId(), progress);
            }
        });
    }

    /** Moves every campaign on: publishes what its limits allow, plans after scans, finishes. */
    void tick() {
        thread.execute(() -> {
            List<CampaignEvent> again = new ArrayList<>(unrecorded.values());
            unrecorded.clear();
            again.forEach(event -> record(campaigns.get(event.campaignId()), event));
            campaigns.values().forEach(this::step);
        });
    }

    private void step(Campaign campaign) {
        if (campaign.state == CampaignState.STANDING
                || (campaign.state == CampaignState.CANCELLED && !campaign.requests.isEmpty())) {
            stepStanding(campaign);
            return;
        }
        if (campaign.state.isOver()) {
            return;
        }
        if (campaign.state == CampaignState.SCANNING) {
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
        for (CampaignJob job : campaign.jobsOf(JobKind.MERGE)) {
            if (job.status() == JobStatus.FINISHED && refusedForSpace(job.result())) {
                recover(campaign, job, job.result());
            }
        }
    }

    private static boolean refusedForSpace(JobResult result) {
        return result.kind() == JobKind.MERGE
                && result.outcome() == Outcome.REFUSED
                && result.problem() != null
                && "insufficient-space".equals(result.problem().reason());
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
            return;
        }
        List<VolumeInventory> fleet = new ArrayList<>();
        for (CampaignJob scan : campaign.jobsOf(JobKind.SPACE_CHECK)) {
            if (scan.result() != null && scan.result().outcome() == Outcome.SUCCEEDED) {
                fleet.addAll(scan.result().inventory());
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
                record(
                        campaign,
                        new CampaignJob(
                                Schema.VERSION,
                                campaign.id,
                                next.job().jobId(),
                                now,
                                JobStatus.PLANNED,
                                next.job(),
                                next.host(),
                                next.volume(),
                                null));
            } else if (!waiting) {
                record(campaign, recovery.with(RecoveryStatus.SUCCEEDED, null, now));
                LOG.info("campaign {}: recovery {} succeeded", campaign.id, recovery.recoveryId());
            }
        }
    }

    /** Whether every pool answered its space check, or had its time. */
    private boolean scansDone(Campaign campaign) {
        Instant deadline = campaign.submittedAt.plus(campaign.spec.scanTimeoutDuration());
        boolean late = clock.instant().isAfter(deadline);
        return campaign.jobsOf(JobKind.SPACE_CHECK).stream().allMatch(j -> j.status() == JobStatus.FINISHED || late);
    }

    private void plan(Campaign campaign) {
        Instant now = clock.instant();
        Map<String, List<VolumeInventory>> inventories = new HashMap<>();
        List<CampaignSkip> unreachable = new ArrayList<>();
        for (CampaignJob scan : campaign.jobsOf(JobKind.SPACE_CHECK)) {
            String pool = scan.job().pool();
            JobResult result = scan.result();
            if (result == null) {
                unreachable.add(new CampaignSkip(
                        Schema.VERSION,
                        campaign.id,
                        scan.jobId(),
                        now,
                        pool,
                        null,
                        "*",
                        "unreachable",
                        "no worker of pool " + pool + " answered the space check in "
                                + campaign.spec.scanTimeoutDuration()));
            } else if (result.outcome() != Outcome.SUCCEEDED) {
                unreachable.add(new CampaignSkip(
                        Schema.VERSION,
                        campaign.id,
                        scan.jobId(),
                        now,
                        pool,
                        result.worker(),
                        "*",
                        "scan-failed",
                        result.problem().message()));
            } else {
                inventories.put(pool, result.inventory());
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
                        new CampaignJob(
                                Schema.VERSION,
                                campaign.id,
                                planned.job().jobId(),
                                now,
                                JobStatus.PLANNED,
                                planned.job(),
                                planned.host(),
                                planned.volume(),
                                null));
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

    /** Publishes planned jobs, oldest first, as far as the campaign's limits allow. */
    private void publishPlanned(Campaign campaign) {
        Limits limits = campaign.spec.limits();
        Map<VolumeKey, Integer> perVolume = new HashMap<>();
        Map<String, Integer> perPool = new HashMap<>();
        Set<ChainKey> busyChains = new HashSet<>();
        Set<String> scanning = new HashSet<>();
        boolean standing = campaign.state == CampaignState.STANDING;
        Instant now = clock.instant();
        int overall = 0;
        List<CampaignJob> waiting = new ArrayList<>();
        for (CampaignJob job : campaign.unfinished.values()) {
            boolean out = job.status() == JobStatus.PUBLISHED || campaign.publishing.contains(job.jobId());
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
                busyChains.add(ChainKey.of(job));
                overall++;
            } else if (job.status() == JobStatus.PLANNED) {
                waiting.add(job);
            }
        }
        if (standing) {
            waiting.sort(mostUrgentFirst(campaign));
        }
        for (CampaignJob job : waiting) {
            if (!poolReady(job.job().pool())) {
                continue;
            }
            if (standing
                    && job.job().kind() == JobKind.SPACE_CHECK
                    && !scanning.add(job.job().pool())) {
                continue; // one scan of a pool at a time; requests that came later wait for the next
            }
            BackupRequest request = requestOf(campaign, job);
            if (request != null && request.deadline() != null && now.isAfter(request.deadline())) {
                refuse(
                        campaign,
                        job,
                        "deadline-passed",
                        "the request's deadline " + request.deadline() + " passed before its merge could start",
                        Map.of("deadline", request.deadline().toString(), "refusedAt", now.toString()));
                continue;
            }
            if (heavy(job)) {
                ChainKey chain = ChainKey.of(job);
                VolumeKey volume = VolumeKey.of(job);
                if (perVolume.getOrDefault(volume, 0) >= limits.perVolume()
                        || (limits.perPool() > 0
                                && perPool.getOrDefault(job.job().pool(), 0) >= limits.perPool())
                        || (limits.overall() > 0 && overall >= limits.overall())
                        || busyChains.contains(chain)) {
                    continue;
                }
                perVolume.merge(volume, 1, Integer::sum);
                perPool.merge(job.job().pool(), 1, Integer::sum);
                busyChains.add(chain);
                overall++;
            }
            publish(campaign, job);
        }
    }

    // ---- backup requests: standing campaigns ----

    /**
     * Takes a valid backup event: records it as a request of its backup system's standing campaign (and
     * the merge job it becomes, when the inventory places its disk). Completes with the request id once
     * all of that is durable; a request already known completes once its records are.
     */
    CompletableFuture<String> accept(BackupEvent event) {
        return on(() -> {
                    String campaignId = BackupEvents.campaignId(event.source());
                    Campaign campaign = campaigns.get(campaignId);
                    if (campaign != null && campaign.requests.containsKey(event.requestId())) {
                        return recorded(campaign, event.requestId()).thenApply(v -> event.requestId());
                    }
                    Instant now = clock.instant();
                    List<CompletableFuture<Void>> durable = new ArrayList<>();
                    if (campaign == null) {
                        campaign = new Campaign(campaignId);
                        campaigns.put(campaignId, campaign);
                        durable.add(record(
                                campaign,
                                new CampaignSubmitted(
                                        Schema.VERSION,
                                        campaignId,
                                        null,
                                        now,
                                        backup.spec(event.source(), List.of(event.pool())))));
                        durable.add(record(
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
                        durable.add(record(
                                campaign,
                                new CampaignSubmitted(
                                        Schema.VERSION,
                                        campaignId,
                                        null,
                                        campaign.submittedAt,
                                        backup.spec(event.source(), pools))));
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
                    durable.add(record(campaign, request));
                    durable.add(plan(campaign, request));
                    CompletableFuture<Void> all = CompletableFuture.allOf(durable.toArray(CompletableFuture[]::new));
                    requestsRecording.put(event.requestId(), all);
                    all.whenCompleteAsync((ok, error) -> requestsRecording.remove(event.requestId(), all), thread);
                    step(campaign);
                    return all.thenApply(v -> event.requestId());
                })
                .thenCompose(f -> f);
    }

    /** Completes once a known request's records are durable, appending again what failed to append. */
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
        for (String key : keys) {
            CampaignEvent failed = unrecorded.remove(key);
            if (failed != null) {
                durable.add(record(campaign, failed));
            }
        }
        return CompletableFuture.allOf(durable.toArray(CompletableFuture[]::new))
                .thenCompose(v -> unrecordedOf(keys)
                        ? CompletableFuture.failedFuture(
                                new IllegalStateException("request " + requestId + " is not recorded yet"))
                        : CompletableFuture.completedFuture(null));
    }

    private boolean unrecordedOf(List<String> keys) {
        return keys.stream().anyMatch(unrecorded::containsKey);
    }

    /** Moves a standing campaign on: publishes what its limits allow, plans received requests, answers finished ones. */
    private void stepStanding(Campaign campaign) {
        boolean open = campaign.state == CampaignState.STANDING;
        if (open && !campaign.paused) {
            publishPlanned(campaign);
        }
        if (!open) {
            for (CampaignJob job : List.copyOf(campaign.jobs.values())) {
                if (job.status() == JobStatus.PLANNED && !campaign.publishing.contains(job.jobId())) {
                    refuse(
                            campaign,
                            job,
                            "cancelled",
                            "the backup campaign " + campaign.id + " was cancelled before this merge started",
                            Map.of());
                }
            }
        }
        for (BackupRequest request : List.copyOf(campaign.requests.values())) {
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
        if (scan != null && !scanned && scanLate(campaign, scan, now)) {
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
            return planCleanup(campaign, request, scan.result().inventory());
        }
        return request.scanJobId() == null ? awaitScan(campaign, request) : CompletableFuture.completedFuture(null);
    }

    private Map<String, InventoryView.Located> scanIndex(CampaignJob scan) {
        if (!scan.jobId().equals(indexedScan)) {
            scanIndex = InventoryView.index(scan.result().inventory());
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
                        && !campaign.publishing.contains(j.jobId()))
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
            scan = new CampaignJob(
                    Schema.VERSION, campaign.id, job.jobId(), now, JobStatus.PLANNED, job, null, null, null);
            durable.add(record(campaign, scan));
        }
        durable.add(record(
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
                campaign.spec.reserveSpec());
        CompletableFuture<Void> jobDurable = record(
                campaign,
                new CampaignJob(
                        Schema.VERSION,
                        campaign.id,
                        job.jobId(),
                        now,
                        JobStatus.PLANNED,
                        job,
                        disk.host(),
                        disk.volume(),
                        null));
        CompletableFuture<Void> requestDurable = record(
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
                    merge.reserve());
            jobIds.add(job.jobId());
            durable.add(record(
                    campaign,
                    new CampaignJob(
                            Schema.VERSION,
                            campaign.id,
                            job.jobId(),
                            now,
                            JobStatus.PLANNED,
                            job,
                            planned.host(),
                            planned.volume(),
                            null)));
        }
        List<CampaignSkip> skipped = plan.skips().stream()
                .filter(skip -> Path.of(skip.disk()).startsWith(folder))
                .toList();
        durable.add(record(
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
                                record(
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
                    result.resultingChain()));
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

    /** Finishes a job that was never sent with a refusal of the coordinator's own. */
    private void refuse(
            Campaign campaign, CampaignJob job, String reason, String message, Map<String, Object> figures) {
        Instant now = clock.instant();
        JobResult result = new JobResult(
                Schema.VERSION,
                job.jobId(),
                campaign.id,
                job.job().kind(),
                job.job().pool(),
                "coordinator",
                Outcome.REFUSED,
                new Problem("refused", reason, message, null, null, null, figures),
                0,
                now,
                Duration.ZERO,
                List.of(),
                null,
                null,
                List.of(),
                false);
        metrics.result(result);
        record(campaign, job.with(JobStatus.FINISHED, result, now));
    }

    private static BackupRequest requestOf(Campaign campaign, CampaignJob job) {
        String requestId = campaign.requestOfJob.get(job.jobId());
        return requestId == null ? null : campaign.requests.get(requestId);
    }

    /** Priority first (higher first), then the nearest deadline, then the order requests came in; scans before all. */
    private static Comparator<CampaignJob> mostUrgentFirst(Campaign campaign) {
        return Comparator.comparing(
                (CampaignJob job) -> requestOf(campaign, job),
                Comparator.nullsFirst(Comparator.comparing(BackupRequest::priority)
                        .reversed()
                        .thenComparing(BackupRequest::deadline, Comparator.nullsLast(Comparator.naturalOrder()))
                        .thenComparing(BackupRequest::receivedAt)));
    }

    private static boolean scanLate(Campaign campaign, CampaignJob scan, Instant now) {
        return scan.status() == JobStatus.PUBLISHED && now.isAfter(scan.at().plus(campaign.spec.scanTimeoutDuration()));
    }

    private static String requestJobId(Campaign campaign, BackupRequest request, String child) {
        return campaign.id + "-b-" + BackupEvents.hash(request.requestId() + "|" + child, 8);
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

    /** Merges and transplants are I/O storms: the campaign's limits hold for both. */
    private static boolean heavy(CampaignJob job) {
        return job.job().kind() == JobKind.MERGE || job.job().kind() == JobKind.TRANSPLANT;
    }

    /** A volume of a pool; a record over the job's own strings, so its hash costs nothing per step. */
    private record VolumeKey(String pool, String volume) {
        static VolumeKey of(CampaignJob job) {
            return new VolumeKey(job.job().pool(), job.volume());
        }
    }

    /** A chain of a pool (its jobs run one at a time). */
    private record ChainKey(String pool, String chain) {
        static ChainKey of(CampaignJob job) {
            return new ChainKey(job.job().pool(), job.job().key());
        }
    }

    private void publish(Campaign campaign, CampaignJob job) {
        campaign.publishing.add(job.jobId());
        Job message = job.job();
        publisher
                .publish(message)
                .whenCompleteAsync(
                        (ok, error) -> {
                            if (!campaign.publishing.remove(job.jobId())) {
                                return; // its result came first and recorded it finished
                            }
                            if (error != null) {
                                LOG.warn(
                                        "publishing job {} failed; it stays planned and is sent again: {}",
                                        job.jobId(),
                                        error.toString());
                                return;
                            }
                            metrics.published(message);
                            CampaignJob current = campaign.jobs.get(job.jobId());
                            if (current != null && current.status() == JobStatus.PLANNED) {
                                record(campaign, current.with(JobStatus.PUBLISHED, null, clock.instant()));
                            }
                        },
                        thread);
    }

    private CompletableFuture<Void> record(Campaign campaign, CampaignEvent event) {
        campaign.apply(event);
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

    Map<CampaignState, Long> countsByState() {
        Map<CampaignState, Long> counts = new HashMap<>();
        campaigns.values().forEach(c -> counts.merge(c.state, 1L, Long::sum));
        return counts;
    }
}
