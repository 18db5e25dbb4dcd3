package io.chainmerge.disk.scan;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Finds every disk file under some folders and links them into chain trees, reading headers only. */
public final class VolumeScan {
    private VolumeScan() {}

    public static ScanReport scan(List<Path> roots) throws IOException {
        throw new UnsupportedOperationException("scanning is being built");
    }
}
