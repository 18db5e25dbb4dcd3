package io.chainmerge.cli;

import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignSpecSchema;
import io.chainmerge.common.campaign.InvalidCampaignSpecException;
import io.chainmerge.coordinator.Planner;
import io.chainmerge.disk.ByteSize;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "campaign",
        header = "Submits and follows merge campaigns through the coordinator.",
        mixinStandardHelpOptions = true,
        description = "Submits and follows merge campaigns through the coordinator's HTTP API (docs/campaigns.md).",
        subcommands = {
            CampaignCommand.Submit.class,
            CampaignCommand.PlanSpec.class,
            CampaignCommand.ListCampaigns.class,
            CampaignCommand.Show.class,
            CampaignCommand.Watch.class,
            CampaignCommand.Cancel.class,
            CampaignCommand.Pause.class,
            CampaignCommand.Resume.class,
            CampaignCommand.Approve.class
        })
final class CampaignCommand implements Runnable {
    @Mixin
    CoordinatorAddress coordinator;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(
                spec.commandLine(), "name a campaign command (see chainmerge campaign --help)");
    }

    CampaignClient client() throws java.io.IOException {
        return coordinator.client();
    }

    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        CampaignCommand parent;

        @Mixin
        Output output;

        PrintWriter out() {
            return output.out();
        }

        int show(CampaignReport report) {
            if (output.json()) {
                output.printJson(report);
            } else {
                CampaignView.print(out(), report);
            }
            out().flush();
            return ExitCodes.OK;
        }
    }

    /**
     * The spec in {@code file}, checked against the spec's published JSON Schema and its rules across fields
     * before anything is sent; an {@link InvalidCampaignSpecException} names the fields at fault.
     */
    static String specText(Path file) throws java.io.IOException {
        String text = Files.readString(file);
        try {
            new CampaignSpecSchema(ChainmergeCommand.JSON).read(text);
        } catch (InvalidCampaignSpecException e) {
            throw new InvalidCampaignSpecException(file + ": " + e.getMessage(), e.fields(), e);
        }
        return text;
    }

    @Command(
            name = "submit",
            header = "Submits a campaign spec; --watch follows it.",
            mixinStandardHelpOptions = true,
            description = "Submits a campaign spec (YAML or JSON).")
    static final class Submit extends Sub {
        @Parameters(paramLabel = "SPEC", description = "the spec file")
        Path file;

        @Option(names = "--watch", description = "follow it until it is over, then print the report")
        boolean watch;

        @Override
        public Integer call() throws Exception {
            String text = specText(file); // a bad spec is refused here, before the coordinator is asked
            CampaignClient client = parent.client();
            String id = client.submit(text);
            if (!watch) {
                out().println(output.json() ? ChainmergeCommand.JSON.write(java.util.Map.of("campaignId", id)) : id);
                return ExitCodes.OK;
            }
            out().println("campaign " + id);
            out().flush();
            CampaignReport report = new CampaignWatch(client, System.out, System.console() != null).follow(id);
            show(report);
            return CampaignView.exitCode(report);
        }
    }

    @Command(
            name = "plan",
            header = "Prints what a spec would do, publishing nothing.",
            mixinStandardHelpOptions = true,
            description =
                    "Prints what a spec would do against the coordinator's latest inventory: every merge, every disk left "
                            + "alone, and the space recovery each merge would get if it does not fit. Publishes nothing.")
    static final class PlanSpec extends Sub {
        @Parameters(paramLabel = "SPEC", description = "the spec file (YAML or JSON)")
        Path file;

        @Override
        public Integer call() throws Exception {
            String text = specText(file); // a bad spec is refused here, before the coordinator is asked
            Planner.Plan plan = parent.client().plan(text);
            if (output.json()) {
                output.printJson(plan);
            } else {
                CampaignView.printPlan(out(), plan);
            }
            out().flush();
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "approve",
            header = "Runs a campaign's proposed space recoveries.",
            mixinStandardHelpOptions = true,
            description =
                    "Runs a campaign's proposed space recoveries (onInsufficientSpace: ask): all of them, or the one named.")
    static final class Approve extends Sub {
        @Parameters(index = "0", paramLabel = "ID", description = "the campaign")
        String id;

        @Parameters(index = "1", arity = "0..1", paramLabel = "RECOVERY", description = "one recovery's id")
        String recovery;

        @Override
        public Integer call() throws Exception {
            return show(parent.client().approve(id, recovery));
        }
    }

    @Command(
            name = "list",
            header = "Lists every campaign.",
            mixinStandardHelpOptions = true,
            description = "Lists every campaign, oldest first, or those in the states given.")
    static final class ListCampaigns extends Sub {
        @Option(
                names = "--state",
                split = ",",
                paramLabel = "STATE",
                description = "only campaigns in these states: scanning, running, standing, finished, cancelled")
        java.util.List<String> states = new java.util.ArrayList<>();

        @Override
        public Integer call() throws Exception {
            var reports = parent.client().list(states);
            if (output.json()) {
                output.printJson(reports);
                return ExitCodes.OK;
            }
            for (CampaignReport r : reports) {
                out().printf(
                                "%-26s %-10s %-20s merged %d, refused %d, failed %d of %d; %s merged%n",
                                r.campaignId(),
                                r.state().wireName() + (r.paused() ? "*" : ""),
                                r.name() == null ? "" : r.name(),
                                r.totals().merged(),
                                r.totals().refused(),
                                r.totals().failed(),
                                r.totals().jobs(),
                                ByteSize.format(r.totals().bytesMerged()));
            }
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "show",
            header = "Shows a campaign's report.",
            mixinStandardHelpOptions = true,
            description = "Shows a campaign's report: every job and every disk left alone.")
    static final class Show extends Sub {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() throws Exception {
            return show(parent.client().show(id));
        }
    }

    @Command(
            name = "watch",
            header = "Follows a campaign live, then prints its report.",
            mixinStandardHelpOptions = true,
            description =
                    "Follows a campaign with a live bar per running merge and one for the campaign, then prints its report.")
    static final class Watch extends Sub {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() throws Exception {
            CampaignReport report = new CampaignWatch(parent.client(), System.out, System.console() != null).follow(id);
            show(report);
            return CampaignView.exitCode(report);
        }
    }

    /** A change of a campaign's state, named by the subcommand: cancel, pause, resume. */
    abstract static class StateChange extends Sub {
        @Parameters(paramLabel = "ID")
        String id;

        @Spec
        CommandSpec command;

        @Override
        public Integer call() throws Exception {
            return show(parent.client().act(id, command.name()));
        }
    }

    @Command(
            name = "cancel",
            header = "Stops publishing a campaign's jobs.",
            mixinStandardHelpOptions = true,
            description = "Stops publishing a campaign's jobs; running ones finish.")
    static final class Cancel extends StateChange {}

    @Command(
            name = "pause",
            header = "Holds a campaign's publishing.",
            mixinStandardHelpOptions = true,
            description = "Holds a campaign's publishing.")
    static final class Pause extends StateChange {}

    @Command(
            name = "resume",
            header = "Resumes a paused campaign.",
            mixinStandardHelpOptions = true,
            description = "Resumes a paused campaign.")
    static final class Resume extends StateChange {}
}
