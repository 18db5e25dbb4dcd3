package io.chainmerge.disk.inuse;

import java.nio.file.Path;

/** A file in use, who uses it in words ("SMB client 10.0.0.7, user CONTOSO\\hv01"), and which probe saw it. */
public record InUseHolder(String probe, Path file, String holder) {}
