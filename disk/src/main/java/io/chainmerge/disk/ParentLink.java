package io.chainmerge.disk;

import java.util.List;
import java.util.UUID;

/**
 * What a differencing disk records about its parent: the identities it accepts, the recorded one
 * first (VHDX parent_linkage then parent_linkage2, the VHD parent unique id), and the paths to look
 * for it at, in the order the format says to try them.
 */
public record ParentLink(List<UUID> acceptedIdentities, List<ParentPath> paths) {

    public ParentLink {
        if (acceptedIdentities.isEmpty()) {
            throw new IllegalArgumentException("a parent link accepts at least one identity");
        }
        acceptedIdentities = List.copyOf(acceptedIdentities);
        paths = List.copyOf(paths);
    }

    /** The identity the child recorded when it was made (or last re-pointed). */
    public UUID recordedIdentity() {
        return acceptedIdentities.get(0);
    }

    public boolean accepts(UUID identity) {
        return acceptedIdentities.contains(identity);
    }
}
