package io.chainmerge.worker;

import io.chainmerge.common.message.InventoryDisk;
import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.JobVisitor;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.MergeOutcome;
import io.chainmerge.common.message.Outcome;
import io.chainmerge.common.message.Problem;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.SetParentJob;
import io.chainmerge.common.message.SpaceCheckJob;
import io.chainmerge.common.message.TransplantJob;
import io.chainmerge.common.message.TransplantMode;
import io.chainmerge.common.message.TransplantOutcome;
import io.chainmerge.common.message.VolumeInventory;
import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.ErrorReport;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.chain.Repoint;
import io.chainmerge.disk.chain.RepointReport;
import io.chainmerge.disk.inuse.InUseCheck;
import io.chainmerge.disk.merge.Merge;
import io.chainmerge.disk.merge.MergePlan;
import io.chainmerge.disk.merge.MergeProgress;
import io.chainmerge.disk.merge.MergeReport;
import io.chainmerge.disk.merge.MergeRequest;
import io.chainmerge.disk.merge.Reserve;
import io.chainmerge.disk.scan.ScanProblem;
import io.chainmerge.disk.scan.ScanReport;
import io.chainmerge.disk.scan.ScannedDisk;
import io.chainmerge.disk.scan.VolumeScan;
import io.chainmerge.disk.transplant.LocalSource;
import io.chainmerge.disk.transplant.Transplant;
import io.chainmerge.disk.transplant.TransplantFile;
import io.chainmerge.disk.transplant.TransplantJournal;
import io.chainmerge.disk.transplant.TransplantReport;
import io.chainmerge.disk.transplant.TransplantRequest;
import io.chainmerge.disk.transplant.TransplantStep;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Runs one job on the disk engine, blocking, on a volume's executor, and says how it ended. Every
 * exception becomes a result through {@link ErrorReport#of}, the one mapping; the only thing that
 * does not is a merge a stop interrupted, which must not report (it resumes wherever the job is
 * delivered next).
 */
final class JobRunner {
    private final WorkerConfig config;
    private final VolumeRoots roots;
    private final RunningMerges running;
    private final InUseCheck inUse;
    private final BooleanSupplier stopRequested;
    private final Supplier<String> advertisedUrl;
    private final TransferClient transfers;
    private final VolumeIdentity volumeIds = new VolumeIdentity();
    private final InventorySink inventories;

    /**
     * Where a space check's inventory goes: in pages to {@code chainmerge.inventory}, acknowledged before
     * the check's result is published, so a coordinator that has the result finds the pages it names.
     */
    @FunctionalInterface
    interface InventorySink {
        /** Publishes a whole scan of one volume and answers with what the result says of it. */
        io.chainmerge.common.message.VolumeScan publish(VolumeInventory whole) throws IOException;
    }

    /** Times a copy that arrives damaged is fetched again from scratch before the job fails. */
    static final int TRANSFER_ATTEMPTS = 3;

    /** A stop interrupted the job, consistent and journaled: no result, no commit, it runs again. */
    static final class StoppedException extends Exception {
        StoppedException(Throwable cause) {
            super("stopped by a shutdown; the job resumes where it is delivered next", cause);
        }
    }

    JobRunner(
            WorkerConfig config,
            VolumeRoots roots,
            InUseCheck inUse,
            RunningMerges running,
            TransferClient transfers,
            BooleanSupplier stopRequested,
            Supplier<String> advertisedUrl,
            InventorySink inventories) {
        this.config = config;
        this.inventories = inventories;
        this.transfers = transfers;
        this.roots = roots;
        this.inUse = inUse;
        this.running = running;
        this.stopRequested = stopRequested;
        this.advertisedUrl = advertisedUrl;
    }

    /**
     * A merge outside its job's windows: it did not start, or it stopped at a window's end, committed and
     * journaled. No result, no commit: it runs again, and resumes, when the next window opens.
     */
    static final class OutsideWindowException extends Exception {
        private final Instant opensAt;

        OutsideWindowException(Instant opensAt, Throwable cause) {
            super("outside the job's windows; it runs again when the next opens, at " + opensAt, cause);
            this.opensAt = opensAt;
        }

        Instant opensAt() {
            return opensAt;
        }
    }

    /** Refuses to start a merge outside its job's windows (a dry run reads a few headers: it runs any time). */
    static void requireWindow(Job job, Instant now) throws OutsideWindowException {
        if (job instanceof MergeJob merge
                && merge.windows() != null
                && !merge.dryRun()
                && !merge.windows().contains(now)) {
            throw new OutsideWindowException(merge.windows().nextOpening(now), null);
        }
    }

    /** Runs {@code job}; {@code entry} is its journal entry (to record a merge's plan before it starts). */
    JobResult run(Job job, JobJournal journal, JobJournal.Entry entry, boolean resumed)
            throws StoppedException, OutsideWindowException {
        Instant startedAt = Instant.now();
        long started = System.nanoTime();
        try {
            return job.accept(new Execution(journal, entry, resumed, startedAt, started));
        } catch (InterruptedIOException e) {
            if (stopRequested.getAsBoolean()) {
                throw new StoppedException(e);
            }
            Instant now = Instant.now();
            if (job instanceof MergeJob merge
                    && merge.windows() != null
                    && !merge.windows().contains(now)) {
                throw new OutsideWindowException(merge.windows().nextOpening(now), e);
            }
            return failure(job, startedAt, started, e);
        } catch (Exception | LinkageError e) {
            return failure(job, startedAt, started, e);
        }
    }

    /** The result of a job refused or failed by {@code error}, typed by the engine's one mapping. */
    JobResult failure(Job job, Instant startedAt, long started, Throwable error) {
        ErrorReport report = ErrorReport.of(error);
        Outcome outcome = report.outcome().equals(ErrorReport.REFUSED) ? Outcome.REFUSED : Outcome.FAILED;
        Problem problem = new Problem(
                report.outcome(),
                report.reason(),
                report.message(),
                report.file() == null ? null : report.file().toString(),
                report.offset(),
                report.field(),
                report.figures());
        return JobResult.unsuccessful(job, config.workerId(), outcome, problem, startedAt, elapsed(started));
    }

    private final class Execution implements JobVisitor<JobResult, IOException> {
        private final JobJournal journal;
        private final JobJournal.Entry entry;
        private final boolean resumed;
        private final Instant startedAt;
        private final long started;

        Execution(JobJournal journal, JobJournal.Entry entry, boolean resumed, Instant startedAt, long started) {
            this.journal = journal;
            this.entry = entry;
            this.resumed = resumed;
            this.startedAt = startedAt;
            this.started = started;
        }

        /** A success of {@code job} in this execution, to which what it did is added. */
        private JobResult succeeded(Job job) {
            return JobResult.succeeded(job, config.workerId(), startedAt, elapsed(started));
        }

        @Override
        public JobResult spaceCheck(SpaceCheckJob job) throws IOException {
            List<Path> targets = new ArrayList<>();
            for (String volume : job.volumes()) {
                targets.add(roots.resolve(volume));
            }
            if (targets.isEmpty()) {
                targets.addAll(roots.roots());
            }
            ScanReport report = VolumeScan.scan(targets);
            List<io.chainmerge.common.message.VolumeScan> scanned = new ArrayList<>();
            for (Path volume : targets) {
                scanned.add(inventories.publish(inventoryOf(job, volume, report)));
            }
            return succeeded(job).withInventory(scanned);
        }

        @Override
        public JobResult merge(MergeJob job) throws IOException {
            Path child = roots.resolve(job.child());
            MergeRequest request = new MergeRequest(
                    child,
                    job.destination() == null ? null : roots.resolve(job.destination()),
                    job.intoNew() == null ? null : roots.resolve(job.intoNew()),
                    "fixed".equals(job.intoNewType()) ? DiskType.FIXED : DiskType.DYNAMIC,
                    job.dryRun(),
                    job.rateBytesPerSecond() > 0 ? job.rateBytesPerSecond() : config.rateBytesPerSecond(),
                    job.reserve() == null
                            ? config.reserve()
                            : new Reserve(job.reserve().bytes(), job.reserve().fraction()),
                    // The engine looks for other children in the folders of the chain's disks; the
                    // coordinator's plan has already checked the whole volume's inventory for them.
                    List.of(),
                    null);
            Planned planned = new Planned();
            MergeProgress progress = running.start(job, 0);
            MergeReport report;
            try {
                // Checked under the merge's locks, between its plan and its first write.
                report = Merge.run(
                        request.withPlanCheck(plan -> {
                            // The engine found the parent, the destination and other children by itself: none of them
                            // may lie outside the roots either.
                            roots.checkAll(plan.files());
                            if (!job.dryRun()) {
                                // Probes cost a walk of /proc and a call of smbstatus: a dry run (a campaign's
                                // preview of thousands) goes without; the real run asks them under its locks.
                                inUse.check(plan.files());
                            }
                            planned.plan = plan;
                            progress.update(0, plan.payloadBytes());
                            for (Path source : plan.sources()) {
                                planned.sourceBytes += Files.exists(source) ? Files.size(source) : 0;
                            }
                            if (plan.mayRun() && !job.dryRun()) {
                                journal.write(entry.planned(
                                        plan.sources().stream()
                                                .map(Path::toString)
                                                .toList(),
                                        plan.destination().toString()));
                            }
                        }),
                        progress);
            } catch (NoSuchFileException | FileAlreadyExistsException gone) {
                if (planned.plan == null && resumed && finishedBeforeACrash(request)) {
                    return finishedEarlier(job);
                }
                throw gone;
            } finally {
                running.finish(job.jobId());
            }
            MergePlan plan = planned.plan;
            long sourceBytes = planned.sourceBytes;
            long reclaimed = report.dryRun()
                    ? 0
                    : plan.intoNew() ? -report.destinationGrowthBytes() : sourceBytes - report.destinationGrowthBytes();
            MergeOutcome outcome = new MergeOutcome(
                    report.dryRun(),
                    report.resumed() || resumed,
                    plan.sources().stream().map(Path::toString).toList(),
                    plan.destination().toString(),
                    plan.payloadBytes(),
                    plan.space().requiredBytes(),
                    plan.space().availableBytes(),
                    report.destinationGrowthBytes(),
                    reclaimed,
                    report.removedSources().stream().map(Path::toString).toList(),
                    report.repointedChildren().stream().map(Path::toString).toList(),
                    plan.reattachTo().map(Path::toString).orElse(null));
            List<String> chain = report.dryRun() ? chainOf(child) : chainOf(plan.destination());
            return succeeded(job).withMerge(report.bytesMerged(), chain, outcome);
        }

        /** What the plan check saw: the plan, and the sources' sizes before the merge removed them. */
        private static final class Planned {
            MergePlan plan;
            long sourceBytes;
        }

        /**
         * The job's merge ran to its end before a crash kept the result from being recorded: it had
         * passed its plan (recorded in the journal), its destination is there and, for a merge in
         * place, every source it planned is gone (the engine removes sources last); a flatten's new
         * file appears only by its final rename.
         */
        private boolean finishedBeforeACrash(MergeRequest request) {
            if (entry.plannedDestination() == null || !Files.exists(Path.of(entry.plannedDestination()))) {
                return false;
            }
            if (request.intoNew() != null) {
                return request.intoNew().toString().equals(entry.plannedDestination());
            }
            return !entry.plannedSources().isEmpty()
                    && entry.plannedSources().stream().noneMatch(s -> Files.exists(Path.of(s)));
        }

        /**
         * The result of a merge an earlier delivery ran to its end, rebuilt from the journal: marked {@code
         * redelivered}, as nothing ran now. The earlier run may have published its own result too: a copy of the job
         * delivered to a second worker while the first ran finds the chain free between the first releasing its
         * files and writing its result to the journal.
         */
        private JobResult finishedEarlier(MergeJob job) throws IOException {
            MergeOutcome outcome = new MergeOutcome(
                    false,
                    true,
                    entry.plannedSources(),
                    entry.plannedDestination(),
                    0,
                    0,
                    0,
                    0,
                    0,
                    job.intoNew() != null ? List.of() : entry.plannedSources(),
                    List.of(),
                    null);
            return succeeded(job)
                    .withMerge(0, chainOf(Path.of(entry.plannedDestination())), outcome)
                    .asRedelivered();
        }

        @Override
        public JobResult setParent(SetParentJob job) throws IOException {
            Path child = roots.resolve(job.child());
            Path parent = roots.resolve(job.newParent());
            RepointReport report = Repoint.setParent(child, parent, inUse);
            return succeeded(job).withResultingChain(chainOf(report.child()));
        }

        @Override
        public JobResult transplant(TransplantJob job) throws IOException {
            Path target = roots.resolve(job.targetFolder());
            boolean move = job.mode() == TransplantMode.MOVE;
            TransplantRequest request = new TransplantRequest(
                    target,
                    move,
                    job.roomForMergeBytes(),
                    job.reserve() == null
                            ? config.reserve()
                            : new Reserve(job.reserve().bytes(), job.reserve().fraction()),
                    job.rateBytesPerSecond() > 0 ? job.rateBytesPerSecond() : config.rateBytesPerSecond(),
                    TRANSFER_ATTEMPTS);
            TransplantJournal steps =
                    journal == null ? TransplantJournal.inMemory() : new JournaledSteps(journal, entry);
            Transplant.Opener opener;
            Transplant.Remover remover;
            if (job.crossWorker()) {
                // Checked before anything is sent anywhere: a job's URL alone never gets a request.
                TransferClient.Pull pull = transfers.authorize(job);
                opener = () -> transfers.open(pull, job.disks(), target, move, request.rateBytesPerSecond());
                remover = file -> transfers.remove(pull, file);
            } else {
                List<Path> disks = new ArrayList<>();
                for (String disk : job.disks()) {
                    disks.add(roots.resolve(disk));
                }
                opener = () -> {
                    LocalSource source = LocalSource.open(disks, target, inUse);
                    try {
                        // What the engine found by itself (the parent that stays, children left behind) is checked too.
                        roots.checkAll(Collections.singletonList(source.parentOfOldest()));
                        roots.checkAll(source.childrenLeftBehind().keySet());
                    } catch (IOException | RuntimeException e) {
                        source.close();
                        throw e;
                    }
                    return source;
                };
                remover = LocalSource::removeSource;
            }
            MergeProgress progress = running.start(job, job.disks().get(0), 0);
            AtomicLong copied = new AtomicLong();
            AtomicLong total = new AtomicLong();
            Transplant.Opener counted = () -> {
                io.chainmerge.disk.transplant.TransplantSource source = opener.open();
                total.set(
                        source.files().stream().mapToLong(TransplantFile::bytes).sum());
                return source;
            };
            TransplantReport report;
            try {
                report = Transplant.run(request, counted, remover, steps, bytes -> {
                    progress.update(copied.addAndGet(bytes), total.get());
                    if (progress.cancelled()) {
                        // Journaled so far: the job resumes wherever it is delivered next.
                        throw new InterruptedIOException("the transplant was stopped by a shutdown");
                    }
                });
            } finally {
                running.finish(job.jobId());
            }
            TransplantOutcome outcome = new TransplantOutcome(
                    job.mode(),
                    job.crossWorker() ? job.source().worker() : config.workerId(),
                    report.files().stream()
                            .map(f -> new TransplantOutcome.TransplantedFile(
                                    f.source().toString(), f.target().toString(), f.bytes(), f.sha256()))
                            .toList(),
                    report.bytesCopied(),
                    report.repointed().stream().map(Path::toString).toList(),
                    report.removed().stream().map(Path::toString).toList(),
                    report.resumed() || resumed);
            return succeeded(job).withTransplant(chainOf(report.newTop()), outcome);
        }
    }

    /** A transplant's steps, kept in the job's own journal entry on the target's volume. */
    private static final class JournaledSteps implements TransplantJournal {
        private final JobJournal journal;
        private JobJournal.Entry entry;

        JournaledSteps(JobJournal journal, JobJournal.Entry entry) {
            this.journal = journal;
            this.entry = entry;
        }

        @Override
        public TransplantStep step() {
            return entry.transplant() == null ? null : entry.transplant().step();
        }

        @Override
        public List<TransplantFile> files() {
            if (entry.transplant() == null) {
                return List.of();
            }
            return entry.transplant().files().stream()
                    .map(f -> new TransplantFile(Path.of(f.source()), Path.of(f.target()), f.bytes(), f.sha256()))
                    .toList();
        }

        @Override
        public List<Path> repointed() {
            return entry.transplant() == null
                    ? List.of()
                    : entry.transplant().repointed().stream().map(Path::of).toList();
        }

        @Override
        public void record(TransplantStep step, List<TransplantFile> files, List<Path> repointed) throws IOException {
            entry = entry.transplanted(new JobJournal.TransplantProgress(
                    step,
                    files.stream()
                            .map(f -> new JobJournal.FileRecord(
                                    f.source().toString(), f.target().toString(), f.bytes(), f.sha256()))
                            .toList(),
                    repointed.stream().map(Path::toString).toList()));
            journal.write(entry);
        }
    }

    /** The chain from {@code top} down to its root, as paths. */
    private static List<String> chainOf(Path top) throws IOException {
        try (Chain chain = Chain.open(top, Access.READ)) {
            return chain.levels().stream()
                    .map(VirtualDisk::path)
                    .map(Path::toString)
                    .toList();
        }
    }

    private VolumeInventory inventoryOf(SpaceCheckJob job, Path volume, ScanReport report) throws IOException {
        List<InventoryDisk> disks = new ArrayList<>();
        for (ScannedDisk disk : report.disks()) {
            if (!disk.path().startsWith(volume)) {
                continue;
            }
            disks.add(new InventoryDisk(
                    disk.path().toString(),
                    disk.format().name(),
                    disk.type().name(),
                    disk.virtualSize(),
                    disk.fileSize(),
                    Files.getLastModifiedTime(disk.path()).toInstant(),
                    disk.link().name(),
                    disk.parent() == null ? null : disk.parent().toString(),
                    disk.children().stream().map(Path::toString).toList(),
                    disk.depth(),
                    disk.root() == null ? null : disk.root().toString(),
                    disk.linkProblem()));
        }
        List<String> problems = new ArrayList<>();
        for (ScanProblem problem : report.problems()) {
            if (problem.path().startsWith(volume)) {
                problems.add(problem.path() + ": " + problem.kind() + ": " + problem.message());
            }
        }
        FileStore store = Files.getFileStore(volume);
        return new VolumeInventory(
                Schema.VERSION,
                job.jobId(),
                job.campaignId(),
                job.pool(),
                config.workerId(),
                volume.toString(),
                Instant.now(),
                store.type(),
                store.getTotalSpace(),
                store.getUsableSpace(),
                disks,
                problems,
                report.pendingMerges().stream()
                        .filter(p -> p.startsWith(volume))
                        .map(Path::toString)
                        .toList(),
                config.reserve().bytesOn(store.getTotalSpace()),
                advertisedUrl.get(),
                volumeIds.of(volume));
    }

    private static Duration elapsed(long started) {
        return Duration.ofNanos(System.nanoTime() - started);
    }
}
