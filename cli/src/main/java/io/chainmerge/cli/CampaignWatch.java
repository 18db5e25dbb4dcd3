package io.chainmerge.cli;

import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignReport.JobView;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.JobProgress;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Follows a campaign until it is over, from the coordinator's event stream ({@code GET
 * /v1/campaigns/{id}/events}): a snapshot, then each change as the coordinator records it. On a terminal it
 * redraws a bar per running merge and one for the campaign in place (at most ten times a second); elsewhere
 * (pipes, logs) it prints the bars every two seconds. A stream that breaks, or that drops this caller for
 * reading too slowly, is taken up again from the last event seen.
 */
final class CampaignWatch {
    private static final Duration REDRAW = Duration.ofMillis(100);
    private static final Duration LOG_EVERY = Duration.ofSeconds(2);
    /**
     * How long the watch keeps reconnecting without a single event: longer than a standby takes to lead after
     * its leader stops (the leader's session timeout, then the takeover), so a rolling update does not end it.
     */
    private static final Duration GIVE_UP_AFTER = Duration.ofMinutes(1);

    private static final Duration RECONNECT_PAUSE = Duration.ofSeconds(1);

    private final CampaignClient client;
    private final PrintStream out;
    private final boolean terminal;
    private final JsonCodec json = ChainmergeCommand.JSON;

    private CampaignReport report;
    private final Map<String, JobView> jobs = new LinkedHashMap<>();
    private boolean over;
    private int drawn;
    private long lastDraw;
    private long lastLog;

    CampaignWatch(CampaignClient client, PrintStream out, boolean terminal) {
        this.client = client;
        this.out = out;
        this.terminal = terminal;
    }

    /** Returns the final report. */
    CampaignReport follow(String campaignId) throws IOException, InterruptedException {
        String lastEventId = null;
        long lastNews = System.nanoTime();
        while (!over) {
            String before = lastEventId;
            IOException broken = null;
            try {
                lastEventId = client.follow(campaignId, lastEventId, this::apply);
            } catch (CoordinatorRefusal refused) {
                throw refused; // the caller's token or role: asking again changes nothing
            } catch (IOException e) {
                broken = e; // the leader stopped, or the network: the stream is taken up again below
            }
            if (!java.util.Objects.equals(before, lastEventId)) {
                lastNews = System.nanoTime();
            }
            if (!over) {
                if (System.nanoTime() - lastNews > GIVE_UP_AFTER.toNanos()) {
                    throw broken != null
                            ? broken
                            : new IOException("the coordinator's event stream for campaign " + campaignId
                                    + " brought nothing new for " + GIVE_UP_AFTER.toSeconds() + " s");
                }
                Thread.sleep(RECONNECT_PAUSE.toMillis());
            }
        }
        draw(true);
        // The whole report, skipped disks and recoveries included, which the live view does not keep.
        return client.show(campaignId);
    }

    /** Folds one event into the live view; false to stop reading (the stream is over for this caller). */
    private boolean apply(CampaignClient.StreamEvent event) {
        try {
            switch (event.name()) {
                case "snapshot" -> {
                    report = json.mapper().readValue(event.data(), CampaignReport.class);
                    jobs.clear();
                    report.jobs().forEach(job -> jobs.put(job.jobId(), job));
                }
                case "job" -> {
                    JobView job = json.mapper().readValue(event.data(), JobView.class);
                    jobs.put(job.jobId(), job);
                }
                case "progress" -> {
                    JobProgress progress = json.mapper().readValue(event.data(), JobProgress.class);
                    jobs.computeIfPresent(progress.jobId(), (id, job) -> withProgress(job, progress));
                }
                case "totals" ->
                    report = with(report, json.mapper().readValue(event.data(), CampaignReport.Totals.class));
                case "state" -> {
                    var state = json.mapper().readTree(event.data());
                    report = with(
                            report,
                            json.mapper().treeToValue(state.path("state"), CampaignState.class),
                            state.path("paused").asBoolean());
                }
                case "end" -> {
                    CampaignReport end = json.mapper().readValue(event.data(), CampaignReport.class);
                    report = with(with(report, end.totals()), end.state(), end.paused());
                    over = true;
                }
                case "reset" -> {
                    return false; // dropped for reading slowly: follow() reconnects for a fresh snapshot
                }
                default -> {
                    // skip, recovery, action: in the final report
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        if (report != null) {
            draw(false);
        }
        return !over;
    }

    private void draw(boolean last) {
        if (report == null) {
            return;
        }
        long now = System.nanoTime();
        List<String> lines = CampaignView.liveLines(current());
        if (terminal) {
            if (!last && now - lastDraw < REDRAW.toNanos()) {
                return;
            }
            if (drawn > 0) {
                out.print("\033[" + drawn + "A\033[J");
            }
            lines.forEach(out::println);
            drawn = lines.size();
            lastDraw = now;
        } else if (last || now - lastLog > LOG_EVERY.toNanos()) {
            lines.forEach(out::println);
            lastLog = now;
        }
        out.flush();
    }

    private CampaignReport current() {
        CampaignReport r = report;
        return new CampaignReport(
                r.campaignId(),
                r.name(),
                r.state(),
                r.paused(),
                r.dryRun(),
                r.submittedAt(),
                r.endedAt(),
                r.elapsed(),
                r.totals(),
                List.copyOf(jobs.values()),
                r.skipped(),
                r.recoveries(),
                r.submittedBy(),
                r.actions(),
                r.summarizedAt());
    }

    private static CampaignReport with(CampaignReport r, CampaignReport.Totals totals) {
        return new CampaignReport(
                r.campaignId(),
                r.name(),
                r.state(),
                r.paused(),
                r.dryRun(),
                r.submittedAt(),
                r.endedAt(),
                r.elapsed(),
                totals,
                r.jobs(),
                r.skipped(),
                r.recoveries(),
                r.submittedBy(),
                r.actions(),
                r.summarizedAt());
    }

    private static CampaignReport with(CampaignReport r, CampaignState state, boolean paused) {
        return new CampaignReport(
                r.campaignId(),
                r.name(),
                state,
                paused,
                r.dryRun(),
                r.submittedAt(),
                r.endedAt(),
                r.elapsed(),
                r.totals(),
                r.jobs(),
                r.skipped(),
                r.recoveries(),
                r.submittedBy(),
                r.actions(),
                r.summarizedAt());
    }

    private static JobView withProgress(JobView j, JobProgress progress) {
        return new JobView(
                j.jobId(),
                j.kind(),
                j.pool(),
                j.host(),
                j.volume(),
                j.child(),
                j.destination(),
                j.status(),
                j.outcome(),
                j.reason(),
                j.message(),
                j.figures(),
                j.bytesMerged(),
                j.reclaimedBytes(),
                j.startedAt(),
                j.duration(),
                j.resultingChain(),
                progress,
                j.attempts(),
                j.waitingFor());
    }
}
