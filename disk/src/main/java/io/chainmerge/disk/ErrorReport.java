package io.chainmerge.disk;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * An error as chainmerge reports it everywhere (command exit codes and {@code --json}, job results):
 * the one place exceptions become outcomes.
 *
 * @param outcome {@code refused} (a guard said no; nothing changed), {@code invalid} (bad input or
 *     request; nothing changed) or {@code failed}
 * @param reason a stable word: the guard's reason, {@code corrupt}, {@code unsupported},
 *     {@code invalid-chain}, {@code invalid-request}, {@code not-found}, {@code transfer-failed},
 *     {@code unauthorized} (a transfer capability that does not open what was asked), {@code io-error},
 *     {@code interrupted} (run the same operation again to finish it), {@code internal-error}
 * @param offset and {@code field}: where in the file a corruption is, else null
 */
public record ErrorReport(
        String outcome,
        String reason,
        String message,
        Path file,
        Long offset,
        String field,
        Map<String, Object> figures) {

    public static final String REFUSED = "refused";
    public static final String INVALID = "invalid";
    public static final String FAILED = "failed";

    public ErrorReport {
        figures = figures == null ? Map.of() : Map.copyOf(figures);
    }

    public static ErrorReport of(Throwable error) {
        String message = error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
        if (error instanceof GuardRefusal refusal) {
            return new ErrorReport(
                    REFUSED, refusal.guard().reason(), message, refusal.file(), null, null, refusal.figures());
        }
        if (error instanceof CorruptDiskException corrupt) {
            return new ErrorReport(
                    INVALID, "corrupt", message, corrupt.file(), corrupt.offset(), corrupt.field(), null);
        }
        if (error instanceof UnsupportedDiskException unsupported) {
            return new ErrorReport(INVALID, "unsupported", message, unsupported.file(), null, null, null);
        }
        if (error instanceof InvalidChainException invalid) {
            return new ErrorReport(INVALID, "invalid-chain", message, invalid.file(), null, null, null);
        }
        if (error instanceof io.chainmerge.disk.transplant.TransferException transfer) {
            return new ErrorReport(FAILED, "transfer-failed", message, transfer.file(), null, null, null);
        }
        if (error instanceof NoSuchFileException missing) {
            return new ErrorReport(
                    INVALID,
                    "not-found",
                    "no such file: " + missing.getFile(),
                    Path.of(missing.getFile()),
                    null,
                    null,
                    null);
        }
        if (error instanceof FileAlreadyExistsException exists) {
            return new ErrorReport(
                    INVALID,
                    "invalid-request",
                    "the file already exists: " + exists.getFile(),
                    Path.of(exists.getFile()),
                    null,
                    null,
                    null);
        }
        if (error instanceof SecurityException) {
            // A transfer capability that does not open what a transplant asked for: nothing was read or sent.
            return new ErrorReport(REFUSED, "unauthorized", message, null, null, null, null);
        }
        if (error instanceof IllegalArgumentException) {
            return new ErrorReport(INVALID, "invalid-request", message, null, null, null, null);
        }
        if (error instanceof java.io.InterruptedIOException) {
            return new ErrorReport(FAILED, "interrupted", message, null, null, null, null);
        }
        if (error instanceof java.io.IOException) {
            return new ErrorReport(FAILED, "io-error", message, null, null, null, null);
        }
        return new ErrorReport(
                FAILED, "internal-error", error.getClass().getName() + ": " + message, null, null, null, null);
    }

    /**
     * Whether the request itself was wrong (rather than the files it names): a file that is not there is
     * the input's fault, like a corrupt one.
     */
    public boolean isRequestError() {
        return reason.equals("invalid-request");
    }
}
