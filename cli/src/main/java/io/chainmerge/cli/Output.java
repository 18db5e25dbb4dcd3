package io.chainmerge.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The {@code --json} option and where a command prints, mixed into every command that reports
 * something. With {@code --json}, errors are printed as JSON on standard output too.
 */
final class Output {
    @Option(names = "--json", description = "print the result, or the error, as JSON")
    boolean json;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    boolean json() {
        return json;
    }

    PrintWriter out() {
        return command.commandLine().getOut();
    }

    PrintWriter err() {
        return command.commandLine().getErr();
    }

    void printJson(Object value) {
        out().println(ChainmergeCommand.JSON.writePretty(value));
    }
}
