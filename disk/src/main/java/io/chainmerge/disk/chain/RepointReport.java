package io.chainmerge.disk.chain;

import java.nio.file.Path;
import java.util.UUID;

/**
 * What re-pointing a child did.
 *
 * @param changed false when the child already pointed at this parent in every path form
 */
public record RepointReport(Path child, Path parent, UUID parentIdentity, boolean changed) {}
