package io.chainmerge.common.campaign;

import com.fasterxml.jackson.annotation.JsonValue;

/** Where a campaign stands. Paused is a flag beside it, not a state. */
public enum CampaignState {
    /** Space checks are out to every target pool. */
    SCANNING("scanning"),
    /** Jobs are planned and being published within the limits. */
    RUNNING("running"),
    /**
     * A backup system's campaign: it takes a job per backup request as requests arrive and never finishes
     * by itself (cancel stops it).
     */
    STANDING("standing"),
    /** Every job has a result (or the campaign had nothing to do). */
    FINISHED("finished"),
    /** Stopped by an operator: nothing more is published; running jobs finish. */
    CANCELLED("cancelled");

    private final String wireName;

    CampaignState(String wireName) {
        this.wireName = wireName;
    }

    @JsonValue
    public String wireName() {
        return wireName;
    }

    public boolean isOver() {
        return this == FINISHED || this == CANCELLED;
    }
}
