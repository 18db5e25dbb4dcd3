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

    /** Runs a command line printing to {@code out} and {@code err}. */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        return ChainmergeCommand.commandLine().setOut(out).setErr(err).execute(args);
    }
}
