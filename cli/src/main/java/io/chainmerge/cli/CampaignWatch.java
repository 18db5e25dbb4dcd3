package io.chainmerge.cli;

import io.chainmerge.common.campaign.CampaignReport;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;

/**
 * Follows a campaign until it is over: on a terminal, redraws a bar per running merge and one for the
 * campaign in place; elsewhere (pipes, logs) prints the bars every two seconds.
 */
final class CampaignWatch {
    private static final Duration REDRAW = Duration.ofMillis(300);
    private static final Duration LOG_EVERY = Duration.ofSeconds(2);

    private final CampaignClient client;
    private final PrintStream out;
    private final boolean terminal;

    CampaignWatch(CampaignClient client, PrintStream out, boolean terminal) {
        this.client = client;
        this.out = out;
        this.terminal = terminal;
    }

    /** Returns the final report. */
    CampaignReport follow(String campaignId) throws IOException, InterruptedException {
        int drawn = 0;
        long lastLog = 0;
        while (true) {
            CampaignReport report = client.show(campaignId);
            List<String> lines = CampaignView.liveLines(report);
            if (terminal) {
                if (drawn > 0) {
                    out.print("\033[" + drawn + "A\033[J");
                }
                lines.forEach(out::println);
                drawn = lines.size();
            } else if (System.nanoTime() - lastLog > LOG_EVERY.toNanos()
                    || report.state().isOver()) {
                lines.forEach(out::println);
                lastLog = System.nanoTime();
            }
            out.flush();
            if (report.state().isOver()) {
                return report;
            }
            Thread.sleep(REDRAW.toMillis());
        }
    }
}
