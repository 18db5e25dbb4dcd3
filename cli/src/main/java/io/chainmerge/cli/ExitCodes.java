package io.chainmerge.cli;

import io.chainmerge.disk.ErrorReport;

/** The exit codes of every command, derived from {@link ErrorReport}'s outcomes. */
public final class ExitCodes {
    public static final int OK = 0;
    public static final int FAILURE = 1;
    public static final int USAGE = 2;
    /** A guard refused: space, siblings, orphaned, in use, not the same parent. Nothing was changed. */
    public static final int REFUSED = 3;
    /** The input is invalid or corrupt. Nothing was changed. */
    public static final int INVALID_INPUT = 4;
    /**
     * The coordinator refused the caller: no token or an unknown one (401), or its principal's roles do not
     * allow the call (403). Nothing was changed.
     */
    public static final int NOT_ALLOWED = 5;

    private ExitCodes() {}

    public static int of(ErrorReport report) {
        return switch (report.outcome()) {
            case ErrorReport.REFUSED -> REFUSED;
            case ErrorReport.INVALID -> report.isRequestError() ? USAGE : INVALID_INPUT;
            default -> FAILURE;
        };
    }
}
