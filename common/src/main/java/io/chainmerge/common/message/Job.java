package io.chainmerge.common.message;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Instant;

/**
 * A job on {@code chainmerge.jobs.<pool>}. Every kind is a record here, and a worker dispatches on
 * it with a {@link JobVisitor}, so adding a kind fails to compile until every visitor handles it.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
@JsonSubTypes({
    @JsonSubTypes.Type(value = SpaceCheckJob.class, name = "space-check"),
    @JsonSubTypes.Type(value = MergeJob.class, name = "merge"),
    @JsonSubTypes.Type(value = SetParentJob.class, name = "set-parent"),
    @JsonSubTypes.Type(value = TransplantJob.class, name = "transplant")
})
public sealed interface Job permits SpaceCheckJob, MergeJob, SetParentJob, TransplantJob {
    int schemaVersion();

    /** Unique per job; a worker that sees a job id twice has the effect of one run (invariant 6). */
    String jobId();

    /** The campaign the job belongs to ({@code ad-hoc} outside campaigns). */
    String campaignId();

    /** The pool whose topic the job is published on. */
    String pool();

    Instant issuedAt();

    @JsonIgnore
    JobKind kind();

    /**
     * The Kafka key: one chain's jobs share it, so they land on one partition and run in order. A
     * chain is named by its root's path.
     */
    @JsonIgnore
    String key();

    <R, X extends Exception> R accept(JobVisitor<R, X> visitor) throws X;
}
