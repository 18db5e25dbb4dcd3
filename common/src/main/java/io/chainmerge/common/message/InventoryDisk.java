package io.chainmerge.common.message;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;
import java.util.List;

/**
 * One disk file a space check found, placed in its tree.
 *
 * @param format {@code VHDX} or {@code VHD}
 * @param type {@code FIXED}, {@code DYNAMIC} or {@code DIFFERENCING}
 * @param link {@code ROOT}, {@code LINKED}, {@code MISSING_PARENT}, {@code MODIFIED_PARENT} or
 *     {@code INVALID_PARENT}
 * @param parent the parent's path when it was found
 * @param children the disks linked to this one
 * @param depth levels from the root down to this disk, the root being 1
 * @param root the chain's root, null when the chain is broken
 * @param modifiedAt the file's last modification, for "older than" selections
 * @param linkProblem what is wrong with the parent link, or null
 */
public record InventoryDisk(
        String path,
        String format,
        String type,
        long virtualSize,
        long fileSize,
        Instant modifiedAt,
        String link,
        String parent,
        List<String> children,
        int depth,
        String root,
        String linkProblem) {
    public InventoryDisk {
        Schema.absolutePath(path, "path");
        Schema.require(link, "link");
        children = children == null ? List.of() : List.copyOf(children);
    }

    @JsonIgnore
    public boolean isOrphan() {
        return link.equals("MISSING_PARENT") || link.equals("MODIFIED_PARENT");
    }

    @JsonIgnore
    public boolean isRootDisk() {
        return link.equals("ROOT");
    }
}
