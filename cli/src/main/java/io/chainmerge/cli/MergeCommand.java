package io.chainmerge.cli;

import io.chainmerge.disk.ByteSize;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.inuse.InUseCheck;
import io.chainmerge.disk.merge.Merge;
import io.chainmerge.disk.merge.MergePlan;
import io.chainmerge.disk.merge.MergeReport;
import io.chainmerge.disk.merge.MergeRequest;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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
    @Mixin
    MergeOptions options;

    @Option(names = "--dry-run", description = "plan and check every guard, change nothing")
    boolean dryRun;

    @Option(
            names = "--rate",
            paramLabel = "RATE",
            description = "the most bytes merged per second, e.g. 200MiB/s (default: no limit)")
    String rate;

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
        ProgressDisplay progress = new ProgressDisplay("merge");
        MergeReport report;
        try {
            InUseCheck inUse = inUseOptions.check();
            boolean dry = request.dryRun();
            // Asked with every file of the plan held, right before the first byte is written.
            report = Merge.run(request, progress, plan -> {
                if (!dry) {
                    inUse.check(plan.files());
                }
            });
        } finally {
            progress.finish();
        }
        PrintWriter out = output.out();
        if (output.json()) {
            output.printJson(report);
        } else {
            print(out, report);
        }
        return ExitCodes.OK;
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
