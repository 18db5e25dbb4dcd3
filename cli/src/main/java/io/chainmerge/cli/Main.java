package io.chainmerge.cli;

/** The {@code chainmerge} launcher. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (see {@link ExitCodes}). */
    public static int run(String... args) {
        return ChainmergeCommand.commandLine().execute(args);
    }
}
