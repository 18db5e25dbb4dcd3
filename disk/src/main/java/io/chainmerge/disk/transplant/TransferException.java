package io.chainmerge.disk.transplant;

import io.chainmerge.disk.DiskException;
import java.nio.file.Path;

/**
 * A transplant's copy could not be made intact: what arrived never matched the source's SHA-256 within
 * the attempts allowed, or the source could not be reached. Nothing was linked to the copy; the sources
 * are as they were, and running the job again resumes.
 */
public final class TransferException extends DiskException {
    public TransferException(Path file, String message) {
        super(file, message);
    }

    public TransferException(Path file, String message, Throwable cause) {
        super(file, message, cause);
    }
}
