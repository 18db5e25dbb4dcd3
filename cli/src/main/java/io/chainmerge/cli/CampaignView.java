package io.chainmerge.cli;

import io.chainmerge.common.campaign.CampaignAction;
import io.chainmerge.common.campaign.CampaignRecovery;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignReport.JobView;
import io.chainmerge.common.campaign.CampaignReport.Totals;
import io.chainmerge.common.campaign.CampaignSkip;
import io.chainmerge.common.campaign.JobStatus;
import io.chainmerge.common.message.JobProgress;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.coordinator.Planner;
import io.chainmerge.disk.ByteSize;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Campaign reports as people read them: the summary, every job, every disk left alone, and live bars. */
final class CampaignView {
    private CampaignView() {}

    private static String pastTense(String action) {
        return switch (action) {
            case "cancel" -> "cancelled";
            case "pause" -> "paused";
            case "resume" -> "resumed";
            case "approve" -> "approved";
            default -> action;
        };
    }

    static void print(PrintWriter out, CampaignReport report) {
        Totals t = report.totals();
        out.printf(
                "campaign %s (%s): %s%s%s, %.1f s%n",
                report.campaignId(),
                report.name() == null ? "unnamed" : report.name(),
                report.state().wireName(),
                report.paused() ? ", paused" : "",
                report.dryRun() ? ", DRY RUN" : "",
                report.elapsed().toMillis() / 1000.0);
        out.printf(
                "  %d merges: %s %d, refused %d, failed %d, running %d, waiting %d; %d disks skipped%n",
                t.jobs(),
                report.dryRun() ? "would merge" : "merged",
                t.merged(),
                t.refused(),
                t.failed(),
                t.running(),
                t.waiting(),
                t.skipped());
        out.printf(
                "  %s merged, %s reclaimed%n", ByteSize.format(t.bytesMerged()), ByteSize.format(t.reclaimedBytes()));
        if (t.republished() > 0) {
            out.printf(
                    "  %d times a job was published again after its worker showed no sign of life%n", t.republished());
        }
        if (report.submittedBy() != null) {
            out.printf("  submitted by %s%n", report.submittedBy());
        }
        if (report.summarizedAt() != null) {
            out.printf(
                    "  folded to its totals at %s (campaigns.retention after it ended): its jobs, skips and recoveries"
                            + " are no longer kept%n",
                    report.summarizedAt());
        }
        for (CampaignAction action : report.actions()) {
            if (!action.action().equals("submit")) {
                out.printf(
                        "  %s by %s%s at %s%s%n",
                        pastTense(action.action()),
                        action.principal(),
                        action.address() == null ? "" : " from " + action.address(),
                        action.at(),
                        action.detail() == null ? "" : ": " + action.detail());
            }
        }
        for (JobView job : report.jobs()) {
            if (job.kind().equals("transplant")) {
                out.printf(
                        "  %-9s %s %s -> %s%s%n",
                        job.outcome() == null ? "moving" : job.outcome().wireName(),
                        job.pool(),
                        name(job.child()),
                        job.destination(),
                        job.reason() == null ? "" : ": " + job.reason() + ": " + job.message());
                continue;
            }
            if (!job.kind().equals("merge")) {
                if (job.outcome() != null && !job.outcome().wireName().equals("succeeded")) {
                    out.printf(
                            "  %-9s %s space check of %s: %s%n",
                            job.outcome().wireName(), job.pool(), job.pool(), job.message());
                }
                continue;
            }
            out.println("  " + jobLine(job));
        }
        for (CampaignSkip skip : report.skipped()) {
            out.printf(
                    "  %-9s %s %s: %s: %s%n", "skipped", skip.pool(), name(skip.disk()), skip.reason(), skip.message());
        }
        Map<String, JobView> byId = new HashMap<>();
        report.jobs().forEach(j -> byId.put(j.jobId(), j));
        for (CampaignRecovery recovery : report.recoveries()) {
            printRecovery(out, recovery, byId, true);
        }
        out.flush();
    }

    /** A plan as {@code campaign plan} prints it: the merges, the disks left alone, the recoveries. */
    static void printPlan(PrintWriter out, Planner.Plan plan) {
        out.printf(
                "%d merges, %d space recoveries, %d disks left alone; nothing was published%n",
                plan.jobs().size(), plan.recoveries().size(), plan.skips().size());
        for (Planner.PlannedJob planned : plan.jobs()) {
            MergeJob merge = planned.job();
            out.printf(
                    "  %-9s %s %s%s on %s:%s, grows it by at most %s%n",
                    "merge",
                    merge.pool(),
                    name(merge.child()),
                    merge.destination() == null ? "" : " -> " + name(merge.destination()),
                    planned.host(),
                    planned.volume(),
                    ByteSize.format(planned.growthBytes()));
        }
        for (CampaignSkip skip : plan.skips()) {
            out.printf(
                    "  %-9s %s %s: %s: %s%n", "skipped", skip.pool(), name(skip.disk()), skip.reason(), skip.message());
        }
        for (CampaignRecovery recovery : plan.recoveries()) {
            printRecovery(out, recovery, Map.of(), false);
        }
        out.flush();
    }

    /**
     * A recovery: why, what it does, and each step with its outcome so far. A plan's recoveries have not
     * started: they show their trigger and steps only.
     */
    static void printRecovery(PrintWriter out, CampaignRecovery recovery, Map<String, JobView> jobs, boolean started) {
        out.printf(
                "  %-9s %s [%s]: %s%n",
                "recovery",
                recovery.recoveryId(),
                started ? recovery.status().wireName() + ", " + recovery.trigger() : recovery.trigger(),
                recovery.explanation());
        if (recovery.message() != null && !recovery.explanation().contains(recovery.message())) {
            out.printf("            %s%n", recovery.message());
        }
        int number = 1;
        for (CampaignRecovery.Step step : recovery.steps()) {
            JobView job = jobs.get(step.job().jobId());
            String state = !started
                    ? "planned"
                    : job == null
                            ? "not yet"
                            : job.outcome() != null
                                    ? job.outcome().wireName() + (job.reason() == null ? "" : " (" + job.reason() + ")")
                                    : job.status() == JobStatus.PLANNED ? "waiting" : "running";
            out.printf("    %d. %-9s %s  [%s]%n", number++, step.action(), step.explanation(), state);
        }
    }

    static String jobLine(JobView job) {
        String what = "%s %s%s"
                .formatted(
                        job.pool(),
                        name(job.child()),
                        job.destination() == null ? "" : " -> " + name(job.destination()));
        if (job.outcome() == null) {
            return "%-9s %s%s"
                    .formatted(
                            job.status() == JobStatus.PLANNED ? "waiting" : "running",
                            what,
                            job.attempts() > 1
                                    ? " (attempt " + job.attempts() + ", published again after a stall)"
                                    : job.waitingFor() != null ? " (" + job.waitingFor() + ")" : "");
        }
        return switch (job.outcome()) {
            case SUCCEEDED ->
                "%-9s %s  %s in %.1f s, %s reclaimed; chain now %s"
                        .formatted(
                                "merged",
                                what,
                                ByteSize.format(job.bytesMerged()),
                                job.duration() == null ? 0 : job.duration().toMillis() / 1000.0,
                                ByteSize.format(job.reclaimedBytes()),
                                job.resultingChain().stream()
                                        .map(CampaignView::name)
                                        .toList());
            case REFUSED -> "%-9s %s: %s%s".formatted("refused", what, job.reason(), figures(job));
            case FAILED -> "%-9s %s: %s: %s".formatted("failed", what, job.reason(), job.message());
        };
    }

    private static String figures(JobView job) {
        Object required = job.figures().get("requiredBytes");
        Object available = job.figures().get("availableBytes");
        if (required instanceof Number r && available instanceof Number a) {
            return " (needs %s, %s available)"
                    .formatted(ByteSize.format(r.longValue()), ByteSize.format(a.longValue()));
        }
        return job.message() == null ? "" : " (" + job.message() + ")";
    }

    /** The live lines of {@code watch}: a bar per running merge and one for the campaign. */
    static List<String> liveLines(CampaignReport report) {
        List<String> lines = new ArrayList<>();
        for (JobView job : report.jobs()) {
            JobProgress progress = job.progress();
            // A job its worker holds waiting for a slot reports no bytes: no bar for it yet.
            if (job.kind().equals("merge") && job.outcome() == null && progress != null && progress.bytesTotal() > 0) {
                lines.add(ProgressDisplay.bar(
                        "  %-24s".formatted(truncate(job.pool() + " " + name(job.child()), 24)),
                        progress.bytesDone(),
                        progress.bytesTotal(),
                        progress.bytesPerSecond()));
                if (progress.pacing() != null) {
                    // Why a merge goes slower than it could, in the words of its volume's pacing.
                    lines.add("    %s %s/s: %s"
                            .formatted(
                                    progress.pacing().paused() ? "paused, pace" : "paced to",
                                    ByteSize.format(progress.pacing().bytesPerSecond()),
                                    progress.pacing().reason()));
                }
            }
        }
        Totals t = report.totals();
        int done = t.merged() + t.refused() + t.failed();
        lines.add(ProgressDisplay.countBar(
                "  %-24s".formatted("campaign " + report.state().wireName()),
                done,
                t.jobs(),
                "merges, %s merged".formatted(ByteSize.format(t.bytesMerged()))));
        return lines;
    }

    static String name(String path) {
        if (path == null) {
            return "";
        }
        Path file = Path.of(path).getFileName();
        return file == null ? path : file.toString();
    }

    private static String truncate(String text, int width) {
        return text.length() <= width ? text : text.substring(0, width - 1) + "~";
    }

    /** The exit code a finished campaign stands for: 0 all good, 3 something refused, 1 something failed. */
    static int exitCode(CampaignReport report) {
        if (report.totals().failed() > 0) {
            return ExitCodes.FAILURE;
        }
        return report.totals().refused() > 0 ? ExitCodes.REFUSED : ExitCodes.OK;
    }

    static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }
}
