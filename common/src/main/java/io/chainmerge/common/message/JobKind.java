package io.chainmerge.common.message;

import com.fasterxml.jackson.annotation.JsonValue;

/** The kinds of job, with the name they have in messages. */
public enum JobKind {
    SPACE_CHECK("space-check"),
    MERGE("merge"),
    SET_PARENT("set-parent"),
    TRANSPLANT("transplant");

    private final String wireName;

    JobKind(String wireName) {
        this.wireName = wireName;
    }

    @JsonValue
    public String wireName() {
        return wireName;
    }
}
