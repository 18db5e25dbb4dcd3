package io.chainmerge.disk.chain;

import java.io.IOException;
import java.nio.file.Path;

/** Points a differencing disk at its parent's new location (Set-VHD -ParentPath). */
public final class Repoint {
    private Repoint() {}

    public static RepointReport setParent(Path child, Path newParent) throws IOException {
        throw new UnsupportedOperationException("re-pointing is being built");
    }
}
