package io.chainmerge.common.message;

import com.fasterxml.jackson.annotation.JsonValue;

/** How a job ended. */
public enum Outcome {
    /** It did what it was asked (a dry run: it would). */
    SUCCEEDED("succeeded"),
    /** A guard said no before anything changed; {@link Problem#figures()} has what it judged by. */
    REFUSED("refused"),
    /** Bad input, a bad request or an error; {@link Problem} says which, typed. */
    FAILED("failed");

    private final String wireName;

    Outcome(String wireName) {
        this.wireName = wireName;
    }

    @JsonValue
    public String wireName() {
        return wireName;
    }
}
