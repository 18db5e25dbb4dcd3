package io.chainmerge.cli;

import io.chainmerge.common.campaign.InvalidCampaignSpecException;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.disk.ErrorReport;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The root command: only subcommands do work. */
@Command(
        name = "chainmerge",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Merges Hyper-V differencing-disk chains (.avhdx/.avhd over .vhdx/.vhd) safely, one host or a whole fleet.",
            "",
            "Exit codes: 0 done; 2 usage; 3 refused by a guard (space, siblings, orphaned, in use, not the same "
                    + "parent); 4 invalid or corrupt input; 5 the coordinator refused the caller (no, unknown or "
                    + "insufficient token); 1 anything else. Refusals and invalid input change nothing."
        },
        subcommands = {
            InspectCommand.class,
            CreateCommand.class,
            WriteCommand.class,
            ExportCommand.class,
            MergeCommand.class,
            PreflightCommand.class,
            SetParentCommand.class,
            TransplantCommand.class,
            ScanCommand.class,
            WorkerCommand.class,
            CoordinatorCommand.class,
            CampaignCommand.class,
            BackupCommand.class,
            TokenCommand.class,
            KafkaCommand.class,
            DemoCommand.class,
            CompletionCommand.class,
            CommandLine.HelpCommand.class
        })
public final class ChainmergeCommand implements Runnable {
    static final JsonCodec JSON = new JsonCodec();

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command (see chainmerge --help)");
    }

    /** The configured command line: errors become messages (or JSON) and exit codes. */
    static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new ChainmergeCommand());
        // Descriptions are single paragraphs: picocli wraps them at the terminal's width (80 when unknown).
        commandLine.setUsageHelpAutoWidth(true);
        commandLine.setExecutionExceptionHandler((error, cmd, parseResult) -> {
            ErrorReport report = error instanceof CoordinatorRefusal refusal
                    ? new ErrorReport(
                            ErrorReport.REFUSED,
                            refusal.status() == 401 ? "unauthorized" : "forbidden",
                            refusal.getMessage(),
                            null,
                            null,
                            null,
                            null)
                    : error instanceof InvalidCampaignSpecException invalid
                            // The spec file is the input at fault, like a corrupt disk: its field is named.
                            ? new ErrorReport(
                                    ErrorReport.INVALID,
                                    "invalid-spec",
                                    invalid.getMessage(),
                                    null,
                                    null,
                                    invalid.fields().isEmpty() ? null : String.join(", ", invalid.fields()),
                                    null)
                            : ErrorReport.of(error);
            if (jsonRequested(cmd)) {
                cmd.getOut().println(JSON.writePretty(errorJson(report)));
                cmd.getOut().flush();
            } else {
                PrintWriter err = cmd.getErr();
                err.println("chainmerge " + cmd.getCommandName() + ": " + report.message());
                if (report.outcome().equals(ErrorReport.FAILED) && System.getenv("CHAINMERGE_DEBUG") != null) {
                    error.printStackTrace(err);
                }
                err.flush();
            }
            return error instanceof CoordinatorRefusal ? ExitCodes.NOT_ALLOWED : ExitCodes.of(report);
        });
        return commandLine;
    }

    private static boolean jsonRequested(CommandLine cmd) {
        return cmd.getMixins().values().stream().anyMatch(mixin -> mixin instanceof Output output && output.json());
    }

    private static Map<String, Object> errorJson(ErrorReport report) {

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("outcome", report.outcome());
        json.put("reason", report.reason());
        json.put("message", report.message());
        if (report.file() != null) {
            json.put("file", report.file().toString());
        }
        if (report.offset() != null) {
            json.put("offset", report.offset());
        }
        if (report.field() != null) {
            json.put("field", report.field());
        }
        if (!report.figures().isEmpty()) {
            json.put("figures", report.figures());
        }
        return json;
    }
}
