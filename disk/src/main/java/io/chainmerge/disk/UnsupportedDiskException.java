package io.chainmerge.disk;

import java.nio.file.Path;

/**
 * A valid file that uses something chainmerge does not implement and must not ignore, such as an
 * unknown region or metadata item marked required.
 */
public class UnsupportedDiskException extends DiskException {
    public UnsupportedDiskException(Path file, String message) {
        super(file, file + ": " + message);
    }
}
