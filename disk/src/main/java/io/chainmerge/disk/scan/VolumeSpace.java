package io.chainmerge.disk.scan;

import java.nio.file.Path;

/** Space on one file system a scan looked at. */
public record VolumeSpace(Path mountPoint, String fileSystem, long totalBytes, long usableBytes) {}
