package io.chainmerge.worker;

import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.JobProgress;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.MergeWindows;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.SetParentJob;
import io.chainmerge.common.message.TransplantJob;
import io.chainmerge.disk.merge.MergeProgress;
import io.chainmerge.disk.merge.Throttle;
import io.chainmerge.disk.pace.PaceDecision;
import io.chainmerge.disk.pace.VolumePace;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * The merges (and transplants, whose copies report the same way) running on this worker and how far each has come. The merging thread writes a merge's
 * counts; the progress reporter reads them on its own schedule, so progress goes out at a steady rate
 * however slowly (throttled) or quickly the engine copies its windows.
 *
 * <p>On a volume paced by its latency ({@code io.latency-target}), a merge takes its part of the
 * volume's pace, and its progress says what that pace is and why.
 */
final class RunningMerges {
    private final Map<String, Tracked> running = new ConcurrentHashMap<>();
    /**
     * Jobs that have copied all they will but are still held (re-pointing, deleting, sending their result):
     * their signs of life keep their last figures, not a waiting job's zero, so a bar does not fall back to
     * nothing at the end.
     */
    private final Map<String, Tracked> copied = new ConcurrentHashMap<>();

    private final String worker;
    private final BooleanSupplier stopRequested;
    private final VolumeRoots roots;
    private final Map<Path, VolumePace> paces;

    RunningMerges(String worker, BooleanSupplier stopRequested) {
        this(worker, stopRequested, null, Map.of());
    }

    /** {@code paces}: the pace of each volume root paced by its latency; empty for fixed rates. */
    RunningMerges(String worker, BooleanSupplier stopRequested, VolumeRoots roots, Map<Path, VolumePace> paces) {
        this.worker = worker;
        this.stopRequested = stopRequested;
        this.roots = roots;
        this.paces = Map.copyOf(paces);
    }

    private final class Tracked implements MergeProgress {
        final Job job;
        final String subject;
        final BooleanSupplier stop;
        final MergeWindows windows;
        volatile VolumePace.Share share;
        volatile long done;
        volatile long total;
        long reportedDone;
        long reportedNanos = System.nanoTime();
        long rate;

        Tracked(Job job, String subject, BooleanSupplier stop) {
            this.job = job;
            this.subject = subject;
            this.stop = stop;
            this.windows = job instanceof MergeJob merge && !merge.dryRun() ? merge.windows() : null;
        }

        @Override
        public void update(long bytesDone, long bytesTotal) {
            done = bytesDone;
            total = bytesTotal;
        }

        /**
         * Asked by the engine after every chunk: a stop, or the end of the job's window, interrupts the
         * merge where it stands, journaled.
         */
        @Override
        public boolean cancelled() {
            return stop.getAsBoolean() || (windows != null && !windows.contains(Instant.now()));
        }

        /** The volume's latency pace, capped by the job's rate, when the volume is paced; else the rate. */
        @Override
        public Throttle throttle(long rateBytesPerSecond) {
            Optional<VolumePace> pace = paceOf(subject);
            if (pace.isEmpty()) {
                return new Throttle(rateBytesPerSecond);
            }
            VolumePace.Share joined = pace.get().join(rateBytesPerSecond, this::cancelled);
            VolumePace.Share before = share;
            share = joined;
            if (before != null) {
                before.close(); // a merge of several passes takes a new share for each
            }
            return new Throttle(joined);
        }

        JobProgress.Pacing pacing() {
            VolumePace.Share joined = share;
            if (joined == null) {
                return null;
            }
            PaceDecision decision = joined.decision();
            return new JobProgress.Pacing(
                    decision.paused() ? 0 : joined.share(decision), decision.paused(), decision.reason());
        }

        void close() {
            VolumePace.Share joined = share;
            if (joined != null) {
                joined.close();
            }
        }
    }

    private Optional<VolumePace> paceOf(String subject) {
        if (paces.isEmpty() || subject == null) {
            return Optional.empty();
        }
        try {
            return roots.volumeOf(roots.resolve(subject)).map(paces::get);
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // the job's own checks report a bad path; the merge never starts
        }
    }

    /** Tracks a merge that is to copy {@code payloadBytes} (the plan's figure, until the engine reports its own). */
    MergeProgress start(MergeJob job, long payloadBytes) {
        return start(job, job.child(), payloadBytes);
    }

    /** Tracks a job copying {@code totalBytes} on behalf of {@code subject} (the disk its progress names). */
    MergeProgress start(Job job, String subject, long totalBytes) {
        Tracked tracked = new Tracked(job, subject, stopRequested);
        tracked.total = totalBytes;
        running.put(job.jobId(), tracked);
        return tracked;
    }

    void finish(String jobId) {
        Tracked tracked = running.remove(jobId);
        if (tracked != null) {
            tracked.close();
            copied.put(jobId, tracked);
        }
    }

    int count() {
        return running.size();
    }

    /** Every running merge's progress now, with its rate since the last snapshot. Called from one thread. */
    List<JobProgress> snapshot() {
        List<JobProgress> out = new ArrayList<>();
        long now = System.nanoTime();
        for (Tracked t : running.values()) {
            long done = t.done;
            long elapsed = now - t.reportedNanos;
            if (elapsed > 0) {
                t.rate = (long) ((done - t.reportedDone) * 1e9 / elapsed);
            }
            t.reportedDone = done;
            t.reportedNanos = now;
            out.add(new JobProgress(
                    Schema.VERSION,
                    t.job.jobId(),
                    t.job.campaignId(),
                    t.job.pool(),
                    worker,
                    t.subject,
                    done,
                    Math.max(done, t.total),
                    Math.max(0, t.rate),
                    Instant.now(),
                    t.pacing()));
        }
        return out;
    }

    /**
     * A sign of life for each of {@code held} that is not copying (waiting for a slot, for the jobs of its
     * chain ahead of it, for a chain in use elsewhere; or a job that copies nothing): no bytes, so the
     * coordinator does not take a job that merely waits for a stalled one. A job that has copied all it will
     * and is finishing reports its last figures instead.
     */
    List<JobProgress> waiting(List<Job> held) {
        List<JobProgress> out = new ArrayList<>();
        Instant now = Instant.now();
        copied.keySet().retainAll(held.stream().map(Job::jobId).toList());
        for (Job job : held) {
            if (running.containsKey(job.jobId())) {
                continue;
            }
            Tracked done = copied.get(job.jobId());
            out.add(
                    done == null
                            ? new JobProgress(
                                    Schema.VERSION,
                                    job.jobId(),
                                    job.campaignId(),
                                    job.pool(),
                                    worker,
                                    subject(job),
                                    0,
                                    0,
                                    0,
                                    now)
                            : new JobProgress(
                                    Schema.VERSION,
                                    job.jobId(),
                                    job.campaignId(),
                                    job.pool(),
                                    worker,
                                    done.subject,
                                    done.done,
                                    Math.max(done.done, done.total),
                                    0,
                                    now));
        }
        return out;
    }

    private static String subject(Job job) {
        if (job instanceof MergeJob merge) {
            return merge.child();
        } else if (job instanceof TransplantJob move) {
            return move.disks().isEmpty() ? null : move.disks().get(0);
        } else if (job instanceof SetParentJob setParent) {
            return setParent.child();
        }
        return null; // a space check names no disk
    }

    /** The summed copy rate of every running merge at the last snapshot, for the metrics. */
    long totalRate() {
        return running.values().stream().mapToLong(t -> t.rate).sum();
    }
}
