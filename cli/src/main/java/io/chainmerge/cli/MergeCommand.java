package io.chainmerge.cli;

import io.chainmerge.common.config.ConfigType;
import io.chainmerge.disk.ByteSize;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.inuse.InUseCheck;
import io.chainmerge.disk.merge.Merge;
import io.chainmerge.disk.merge.MergePlan;
import io.chainmerge.disk.merge.MergeProgress;
import io.chainmerge.disk.merge.MergeReport;
import io.chainmerge.disk.merge.MergeRequest;
import io.chainmerge.disk.merge.Throttle;
import io.chainmerge.disk.pace.PaceSettings;
import io.chainmerge.disk.pace.VolumePace;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "merge",
        header = "Merges a child into its parent, an ancestor or a new disk.",
        mixinStandardHelpOptions = true,
        description = "Merges CHILD into its parent (like Merge-VHD), or several levels into an ancestor, or the whole "
                + "chain into a new disk. Every guard is checked first and a refusal changes nothing: a broken or "
                + "orphaned chain, other children that would be orphaned, too little space, files in use. "
                + "The merge is crash-safe: if it is interrupted, run the same command again to finish it. "
                + "A child of CHILD is re-pointed at the destination; merged files are removed last.")
final class MergeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    MergeOptions options;

    @Option(names = "--dry-run", description = "plan and check every guard, change nothing")
    boolean dryRun;

    @Option(
            names = "--rate",
            paramLabel = "RATE",
            description = "the most bytes merged per second, e.g. 200MiB/s (default: no limit)")
    String rate;

    @Option(
            names = "--latency-target",
            paramLabel = "DURATION",
            description = "pace the merge by the service latency of the device under CHILD's volume, keeping it under "
                    + "this (e.g. 20ms) by slowing down to --min-rate and back up to --rate (docs/pacing.md)")
    String latencyTarget;

    @Option(
            names = "--latency-pause",
            paramLabel = "DURATION",
            description = "with --latency-target: above this latency twice in a row the merge waits until the latency "
                    + "is back under the target (default: never)")
    String latencyPause;

    @Option(
            names = "--min-rate",
            paramLabel = "RATE",
            description = "with --latency-target: the slowest the merge goes over the target (default 8MiB/s)")
    String minRate;

    @Mixin
    InUseOptions inUseOptions;

    @Mixin
    Output output;

    @Override
    public Integer call() throws Exception {
        MergeRequest request = options.request().withDryRun(dryRun);
        if (rate != null) {
            request = request.withRate(MergeOptions.parseRate(rate));
        }
        ProgressDisplay display = new ProgressDisplay("merge");
        PacedProgress paced = paced(request);
        MergeProgress progress = paced == null ? display : paced.on(display);
        MergeReport report;
        try {
            InUseCheck inUse = inUseOptions.check();
            boolean dry = request.dryRun();
            // Asked with every file of the plan held, right before the first byte is written.
            report = Merge.run(
                    request.withPlanCheck(plan -> {
                        if (!dry) {
                            inUse.check(plan.files());
                        }
                    }),
                    progress);
        } finally {
            display.finish();
        }
        PrintWriter out = output.out();
        if (output.json()) {
            output.printJson(report);
        } else {
            print(out, report);
            if (paced != null) {
                out.printf(
                        "  paced        by the %s; last: %s%n",
                        paced.pace.signal(), paced.pace.current().reason());
            }
        }
        return ExitCodes.OK;
    }

    /** The volume's latency pace when asked for (--latency-target), else null for the fixed --rate. */
    private PacedProgress paced(MergeRequest request) throws java.io.IOException {
        if (latencyTarget == null) {
            if (latencyPause != null || minRate != null) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--latency-pause and --min-rate need --latency-target");
            }
            return null;
        }
        PaceSettings settings;
        try {
            settings = new PaceSettings(
                    ConfigType.parseDuration(latencyTarget),
                    latencyPause == null ? Duration.ZERO : ConfigType.parseDuration(latencyPause),
                    minRate == null ? 8L << 20 : MergeOptions.parseRate(minRate),
                    request.rateBytesPerSecond(),
                    Duration.ofSeconds(1));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        Path volume = request.child().toAbsolutePath().getParent();
        return new PacedProgress(VolumePace.of(volume, settings));
    }

    /** Progress shown as usual, with the copy held to the volume's latency pace. */
    private static final class PacedProgress implements MergeProgress {
        private final VolumePace pace;
        private MergeProgress shown = MergeProgress.NONE;

        PacedProgress(VolumePace pace) {
            this.pace = pace;
        }

        PacedProgress on(MergeProgress display) {
            this.shown = display;
            return this;
        }

        @Override
        public void update(long bytesDone, long bytesTotal) {
            shown.update(bytesDone, bytesTotal);
        }

        @Override
        public boolean cancelled() {
            return shown.cancelled();
        }

        @Override
        public Throttle throttle(long rateBytesPerSecond) {
            return new Throttle(pace.join(rateBytesPerSecond, this::cancelled));
        }
    }

    private static void print(PrintWriter out, MergeReport report) {
        MergePlan plan = report.plan();
        String verb = report.dryRun() ? "would merge" : report.resumed() ? "finished merging" : "merged";
        out.printf("%s %s into %s%n", verb, plan.sources(), plan.destination());
        out.printf("  payload      %s%n", ByteSize.format(plan.payloadBytes()));
        out.printf(
                "  space        needs %s, %s available on %s (reserve %s)%n",
                ByteSize.format(plan.space().requiredBytes()),
                ByteSize.format(plan.space().availableBytes()),
                plan.space().volume(),
                ByteSize.format(plan.space().reserveBytes()));
        for (Path child : plan.childrenToRepoint()) {
            out.printf("  %s %s at the destination%n", report.dryRun() ? "would re-point" : "re-pointed", child);
        }
        plan.reattachTo()
                .ifPresent(disk -> out.printf(
                        "  reattach     a VM attached to %s %s attach %s (Set-VMHardDiskDrive -Path)%n",
                        plan.sources().get(0), report.dryRun() ? "would then" : "must now", disk));
        for (GuardRefusal refusal : plan.refusals()) {
            out.printf("  refused      %s%n", refusal.getMessage());
        }
        if (!report.dryRun()) {
            double seconds = report.duration().toNanos() / 1e9;
            out.printf(
                    "  copied       %s in %.1f s (%s/s)%n",
                    ByteSize.format(report.bytesMerged()),
                    seconds,
                    ByteSize.format(seconds > 0 ? (long) (report.bytesMerged() / seconds) : 0));
            out.printf("  grew by      %s%n", ByteSize.format(report.destinationGrowthBytes()));
            for (Path removed : report.removedSources()) {
                out.printf("  removed      %s%n", removed);
            }
        }
    }
}
