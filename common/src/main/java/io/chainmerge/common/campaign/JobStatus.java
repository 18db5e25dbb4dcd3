package io.chainmerge.common.campaign;

import com.fasterxml.jackson.annotation.JsonValue;

/** A campaign job's life: planned, then published to its pool, then finished with a result. */
public enum JobStatus {
    PLANNED("planned"),
    PUBLISHED("published"),
    FINISHED("finished");

    private final String wireName;

    JobStatus(String wireName) {
        this.wireName = wireName;
    }

    @JsonValue
    public String wireName() {
        return wireName;
    }
}
