package io.chainmerge.disk.pace;

import io.chainmerge.disk.merge.Pace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The pace of every merge on one volume: samples the volume's latency once per interval, lets a
 * {@link LatencyController} set the volume's pace, and shares it among the merges running there.
 *
 * <p>The latency comes from the kernel's counters of the block device under the volume when there is
 * one ({@link BlockDevice}); a volume without a device (tmpfs, overlay, a network mount) falls back
 * to the merges' own I/O: the time of each chunk's read and write, per {@value #REQUEST_BYTES} bytes
 * moved (the size the kernel commonly splits large I/O into), a proxy that rises as the volume slows.
 *
 * <p>Sampling happens on the calls of the merges' throttles (at least every {@link
 * io.chainmerge.disk.merge.Throttle#PACE_POLL_NANOS} while they wait), so no thread runs for it.
 */
public final class VolumePace {
    static final long REQUEST_BYTES = 512 << 10;

    /** How long the merges' last requests get to complete before the device is measured without them. */
    static final long DRAIN_NANOS = 50_000_000L;

    /** How long the device is measured while the merges hold still: 15 % of a 1 s interval with the drain. */
    static final long MEASURE_NANOS = 100_000_000L;

    private enum Phase {
        RUN,
        DRAIN,
        MEASURE
    }

    private Phase phase = Phase.RUN;
    private long phaseSince;

    private final Path volume;
    private final PaceSettings settings;
    private final Optional<BlockDevice> device;
    private final String signal;
    private final LongSupplier clock;
    private final LatencyController controller;
    private final AtomicInteger shares = new AtomicInteger();
    private BlockDevice.Counters counters;
    private long sampledAt;
    private long ownBytes;
    private long ownNanos;
    private long ownRequests;
    private long lastOwnLatency = -1;

    VolumePace(Path volume, PaceSettings settings, Optional<BlockDevice> device, String signal, LongSupplier clock) {
        this.volume = volume;
        this.settings = settings;
        this.device = device;
        this.signal = signal;
        this.clock = clock;
        this.controller = new LatencyController(settings);
        this.sampledAt = clock.getAsLong();
    }

    /** Paces the merges on {@code volume}, reading the latency of the device under it, if any. */
    public static VolumePace of(Path volume, PaceSettings settings) throws IOException {
        Path mountinfo = Path.of("/proc/self/mountinfo");
        if (!Files.isReadable(mountinfo)) {
            return new VolumePace(
                    volume,
                    settings,
                    Optional.empty(),
                    "no mount table (" + mountinfo + "): latency from the merges' own I/O",
                    System::nanoTime);
        }
        BlockDevice.Mount mount = BlockDevice.Mount.of(volume, mountinfo);
        Optional<BlockDevice> device = mount.device(Path.of("/sys"));
        String signal = device.map(d -> "latency of " + d.description() + " under " + mount)
                .orElse(mount + " has no block device: latency from the merges' own I/O");
        return new VolumePace(volume, settings, device, signal, System::nanoTime);
    }

    public Path volume() {
        return volume;
    }

    /** Where the latency comes from, for the log and the docs' troubleshooting. */
    public String signal() {
        return signal;
    }

    /**
     * The pace now, sampling the latency first when an interval has passed. With a device, a sample is
     * taken while the merges hold still ({@link #quiet()}): after {@link #DRAIN_NANOS} for their last
     * requests to complete, the device's counters over {@link #MEASURE_NANOS} show the latency of the
     * others' I/O alone, the VMs', which the merges' own large requests would otherwise swamp (on an
     * otherwise idle volume, they alone show several milliseconds per request).
     */
    public synchronized PaceDecision decision() {
        long now = clock.getAsLong();
        if (device.isEmpty()) {
            if (now - sampledAt >= settings.interval().toNanos()) {
                sampledAt = now;
                controller.step(ownSample());
            }
            return controller.current();
        }
        switch (phase) {
            case RUN -> {
                if (now - sampledAt >= settings.interval().toNanos()) {
                    phase = Phase.DRAIN;
                    phaseSince = now;
                }
            }
            case DRAIN -> {
                if (now - phaseSince >= DRAIN_NANOS) {
                    counters = read();
                    phase = counters == null ? Phase.RUN : Phase.MEASURE;
                    phaseSince = now;
                    if (counters == null) {
                        sampledAt = now;
                        controller.step(ownSample()); // the device went away: the merges' own timings
                    }
                }
            }
            case MEASURE -> {
                if (now - phaseSince >= MEASURE_NANOS) {
                    BlockDevice.Counters after = read();
                    ownSample(); // their throughput still sets the ceiling without a rate
                    controller.step(after == null ? OptionalLong.empty() : BlockDevice.latencyNanos(counters, after));
                    phase = Phase.RUN;
                    sampledAt = now;
                }
            }
        }
        return controller.current();
    }

    /** Whether the merges hold still now, for the volume's latency to be measured without them. */
    public synchronized boolean quiet() {
        return phase != Phase.RUN;
    }

    private BlockDevice.Counters read() {
        try {
            return device.orElseThrow().read();
        } catch (IOException e) {
            return null;
        }
    }

    /** The pace as last set, without sampling (for metrics, which must not steer it). */
    public synchronized PaceDecision current() {
        return controller.current();
    }

    /** The last latency the merges' own I/O showed, in nanoseconds; -1 before any. */
    public synchronized long ownLatencyNanos() {
        return lastOwnLatency;
    }

    /** Merges running under this pace now. */
    public int merges() {
        return shares.get();
    }

    private OptionalLong ownSample() {
        OptionalLong own = OptionalLong.empty();
        if (ownRequests > 0) {
            lastOwnLatency = ownNanos / ownRequests;
            own = OptionalLong.of(lastOwnLatency);
            controller.observedThroughput((long) (ownBytes * 1e9 / ownNanos * Math.max(1, shares.get())));
        }
        ownBytes = 0;
        ownNanos = 0;
        ownRequests = 0;
        return own;
    }

    private synchronized void observed(long bytes, long nanos) {
        ownBytes += bytes;
        ownNanos += Math.max(1, nanos);
        // A chunk is read and then written: twice its bytes in requests.
        ownRequests += Math.max(1, 2 * bytes / REQUEST_BYTES);
    }

    /**
     * One merge's part of the volume's pace, at most {@code capBytesPerSecond} (its own rate limit; 0
     * for none); close it when the merge ends.
     */
    public Share join(long capBytesPerSecond, BooleanSupplier stopWanted) {
        shares.incrementAndGet();
        return new Share(capBytesPerSecond, stopWanted);
    }

    /** A merge's part: the volume's pace divided among the merges running on it. */
    public final class Share implements Pace, AutoCloseable {
        private final long cap;
        private final BooleanSupplier stopWanted;
        private boolean closed;

        private Share(long cap, BooleanSupplier stopWanted) {
            this.cap = cap;
            this.stopWanted = stopWanted;
        }

        @Override
        public long bytesPerSecond() {
            PaceDecision decision = decision();
            if (decision.paused() || quiet()) {
                return PAUSED;
            }
            return share(decision);
        }

        /** This merge's part of {@code decision}'s pace, within its own limit; 0 for no limit. */
        public long share(PaceDecision decision) {
            long share = decision.bytesPerSecond() == 0
                    ? 0
                    : Math.max(1, decision.bytesPerSecond() / Math.max(1, shares.get()));
            if (cap > 0) {
                return share == 0 ? cap : Math.min(cap, share);
            }
            return share;
        }

        @Override
        public void observed(long bytes, long nanos) {
            VolumePace.this.observed(bytes, nanos);
        }

        @Override
        public boolean stopWanted() {
            return stopWanted.getAsBoolean();
        }

        /** The volume's pace decision, for this merge's progress report. */
        public PaceDecision decision() {
            return VolumePace.this.decision();
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                shares.decrementAndGet();
            }
        }
    }
}
