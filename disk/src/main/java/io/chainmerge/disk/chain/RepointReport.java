package io.chainmerge.disk.chain;

import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * What re-pointing a child did.
 *
 * @param changed false when the child already pointed at this parent in every path form
 * @param notes what the child had recorded of the parent that did not match, though its identity did
 *     (a VHD's parent time stamp); the child records the parent as it is now
 */
public record RepointReport(Path child, Path parent, UUID parentIdentity, boolean changed, List<String> notes) {
    public RepointReport {
        notes = List.copyOf(notes);
    }
}
