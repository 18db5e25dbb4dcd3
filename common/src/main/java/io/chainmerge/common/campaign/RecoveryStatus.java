package io.chainmerge.common.campaign;

import com.fasterxml.jackson.annotation.JsonValue;

/** Where a space recovery stands. */
public enum RecoveryStatus {
    /** Planned under {@code onInsufficientSpace: ask}: waits for an operator's approval. */
    PROPOSED("proposed"),
    /** Its steps run one after the other, each once the one before succeeded. */
    RUNNING("running"),
    /** Every step succeeded. */
    SUCCEEDED("succeeded"),
    /** A step was refused or failed; the steps after it were not run. */
    FAILED("failed"),
    /** No allowed volume has room: nothing was planned, the merge stays refused. */
    IMPOSSIBLE("impossible"),
    /** Planned in a dry run: explained, never run. */
    DRY_RUN("dry-run");

    private final String wireName;

    RecoveryStatus(String wireName) {
        this.wireName = wireName;
    }

    @JsonValue
    public String wireName() {
        return wireName;
    }

    /** Nothing more happens to it. */
    public boolean isOver() {
        return this == SUCCEEDED || this == FAILED || this == IMPOSSIBLE || this == DRY_RUN;
    }
}
