package io.chainmerge.cli;

import io.chainmerge.disk.chain.Repoint;
import io.chainmerge.disk.chain.RepointReport;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
        name = "set-parent",
        mixinStandardHelpOptions = true,
        description = {
            "Points CHILD at its parent's new location (like Set-VHD -ParentPath), after the parent was moved.",
            "Accepted only when PATH is the same disk the child was made from (same identity); otherwise",
            "refused (exit code 3) and the child is left untouched."
        })
final class SetParentCommand implements Callable<Integer>, JsonOutput {
    @Parameters(paramLabel = "CHILD", description = "the differencing disk to re-point")
    Path child;

    @Option(names = "--parent", required = true, paramLabel = "PATH", description = "the parent's new location")
    Path parent;

    @Option(names = "--json", description = "print the result as JSON")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public boolean json() {
        return json;
    }

    @Override
    public Integer call() throws Exception {
        RepointReport report = Repoint.setParent(child, parent);
        if (json) {
            spec.commandLine().getOut().println(ChainmergeCommand.JSON.writePretty(report));
        } else if (report.changed()) {
            spec.commandLine()
                    .getOut()
                    .printf(
                            "%s now points at %s (identity %s)%n",
                            report.child(), report.parent(), report.parentIdentity());
        } else {
            spec.commandLine().getOut().printf("%s already points at %s%n", report.child(), report.parent());
        }
        if (!json) {
            for (String note : report.notes()) {
                spec.commandLine().getOut().printf("note: %s%n", note);
            }
        }
        return ExitCodes.OK;
    }
}
