package io.chainmerge.disk;

import java.nio.file.Path;

/**
 * The files do not form a chain chainmerge may work on: a parent-locator loop, a child whose parent is
 * of the other format, mismatched sector sizes, a destination that is not an ancestor.
 */
public class InvalidChainException extends DiskException {
    public InvalidChainException(Path file, String message) {
        super(file, message);
    }
}
