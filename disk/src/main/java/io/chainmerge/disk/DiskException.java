package io.chainmerge.disk;

import java.io.IOException;
import java.nio.file.Path;

/** Something about a disk file or chain that chainmerge cannot or will not work with. */
public abstract class DiskException extends IOException {
    private final transient Path file;

    protected DiskException(Path file, String message) {
        super(message);
        this.file = file;
    }

    protected DiskException(Path file, String message, Throwable cause) {
        super(message, cause);
        this.file = file;
    }

    /** The file the problem is in, or null when it concerns no single file. */
    public Path file() {
        return file;
    }
}
