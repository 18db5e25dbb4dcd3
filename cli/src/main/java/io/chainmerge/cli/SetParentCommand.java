package io.chainmerge.cli;

import io.chainmerge.disk.chain.Repoint;
import io.chainmerge.disk.chain.RepointReport;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "set-parent",
        header = "Points a child at its moved parent (Set-VHD -ParentPath).",
        mixinStandardHelpOptions = true,
        description =
                "Points CHILD at its parent's new location (like Set-VHD -ParentPath), after the parent was moved. "
                        + "Accepted only when PATH is the same disk the child was made from (same identity); otherwise "
                        + "refused (exit code 3) and the child is left untouched.")
final class SetParentCommand implements Callable<Integer> {
    @Parameters(paramLabel = "CHILD", description = "the differencing disk to re-point")
    Path child;

    @Option(names = "--parent", required = true, paramLabel = "PATH", description = "the parent's new location")
    Path parent;

    @Mixin
    InUseOptions inUseOptions;

    @Mixin
    Output output;

    @Override
    public Integer call() throws Exception {
        RepointReport report = Repoint.setParent(child, parent, inUseOptions.check());
        if (output.json()) {
            output.printJson(report);
        } else if (report.changed()) {
            output.out()
                    .printf(
                            "%s now points at %s (identity %s)%n",
                            report.child(), report.parent(), report.parentIdentity());
        } else {
            output.out().printf("%s already points at %s%n", report.child(), report.parent());
        }
        if (!output.json()) {
            for (String note : report.notes()) {
                output.out().printf("note: %s%n", note);
            }
        }
        return ExitCodes.OK;
    }
}
