package io.chainmerge.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Shell completion, generated from the command line's own model, so it never lags behind a new option. */
@Command(
        name = "completion",
        header = "Prints a completion script for bash or zsh.",
        mixinStandardHelpOptions = true,
        description = "Prints a script that completes chainmerge's commands and options. bash: "
                + "source <(chainmerge completion bash), or save it as "
                + "/usr/share/bash-completion/completions/chainmerge. zsh: add "
                + "source <(chainmerge completion zsh) to ~/.zshrc (the script loads zsh's bash completion).")
final class CompletionCommand implements Callable<Integer> {
    enum Shell {
        bash,
        zsh
    }

    @Parameters(paramLabel = "SHELL", description = "bash or zsh")
    Shell shell;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        // One script serves both: it turns on bashcompinit itself when zsh sources it.
        spec.commandLine()
                .getOut()
                .print(AutoComplete.bash("chainmerge", spec.root().commandLine()));
        spec.commandLine().getOut().flush();
        return ExitCodes.OK;
    }
}
