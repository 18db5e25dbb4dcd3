package io.chainmerge.disk.scan;

import java.nio.file.Path;

/**
 * A file a scan could not read as a disk.
 *
 * @param kind {@code corrupt}, {@code unsupported}, {@code in-use} or {@code io}
 */
public record ScanProblem(Path path, String kind, String message) {}
