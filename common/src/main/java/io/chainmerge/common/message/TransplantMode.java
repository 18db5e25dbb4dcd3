package io.chainmerge.common.message;

import com.fasterxml.jackson.annotation.JsonValue;

/** Whether a transplant removes the source files once the copies are verified and linked. */
public enum TransplantMode {
    /** Copy, verify, re-point the children that stay, then remove the sources (Move-VHD + Set-VHD). */
    MOVE("move"),
    /** Copy and verify; the sources and their children stay as they are. */
    COPY("copy");

    private final String wireName;

    TransplantMode(String wireName) {
        this.wireName = wireName;
    }

    @JsonValue
    public String wireName() {
        return wireName;
    }
}
