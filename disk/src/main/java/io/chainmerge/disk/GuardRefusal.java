package io.chainmerge.disk;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An operation was refused before any byte changed, because going on would lose data, orphan a disk,
 * fill a volume or disturb a disk in use. Carries the guard and the figures it judged by.
 */
public class GuardRefusal extends DiskException {

    /** The guards, each with the reason name used in results and JSON output. */
    public enum Guard {
        /** The destination's volume cannot hold the merge's growth plus the reserve. */
        SPACE("insufficient-space"),
        /** Another child of a disk the operation changes would be orphaned. */
        SIBLINGS("siblings"),
        /** The parent's identity is not the one the child recorded: the parent was modified. */
        ORPHANED("orphaned"),
        /** The parent file cannot be found at any path the child records. */
        MISSING_PARENT("missing-parent"),
        /** Another process holds a lock on one of the files. */
        IN_USE("in-use"),
        /** The proposed new parent is not the disk the child was made from. */
        NOT_SAME_PARENT("not-same-parent");

        private final String reason;

        Guard(String reason) {
            this.reason = reason;
        }

        public String reason() {
            return reason;
        }
    }

    private final Guard guard;
    private final transient Map<String, Object> figures;

    public GuardRefusal(Guard guard, Path file, String message, Map<String, Object> figures) {
        super(file, message);
        this.guard = guard;
        this.figures = Collections.unmodifiableMap(new LinkedHashMap<>(figures));
    }

    public GuardRefusal(Guard guard, Path file, String message) {
        this(guard, file, message, Map.of());
    }

    public Guard guard() {
        return guard;
    }

    /** What the guard measured, e.g. requiredBytes and availableBytes for {@link Guard#SPACE}. */
    public Map<String, Object> figures() {
        return figures;
    }
}
