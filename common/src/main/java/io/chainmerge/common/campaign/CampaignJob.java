package io.chainmerge.common.campaign;

import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.Schema;
import java.time.Instant;

/**
 * A campaign's job and where it stands.
 *
 * @param host the worker whose inventory the job was planned from (null for space checks)
 * @param volume the volume root the job works on, for the per-volume limit (null for space checks)
 * @param result the job's result once {@code FINISHED}
 * @param attempts how many times the job was sent to its pool: 1 once published, more after each re-publish of
 *     a job whose worker showed no sign of life for the stall timeout; 0 while planned (and, once finished, in
 *     events written before it was counted)
 */
public record CampaignJob(
        int schemaVersion,
        String campaignId,
        String jobId,
        Instant at,
        JobStatus status,
        Job job,
        String host,
        String volume,
        JobResult result,
        Integer attempts)
        implements CampaignEvent {
    public CampaignJob {
        if (schemaVersion != Schema.VERSION) {
            throw new IllegalArgumentException("schemaVersion " + schemaVersion + " is not supported");
        }
        if (campaignId == null || jobId == null || status == null || job == null || at == null) {
            throw new IllegalArgumentException("campaignId, jobId, at, status and job are required");
        }
        if ((status == JobStatus.FINISHED) != (result != null)) {
            throw new IllegalArgumentException("a job has a result exactly when it is finished");
        }
        attempts = attempts == null ? 0 : attempts;
        if (attempts < 0) {
            throw new IllegalArgumentException("attempts cannot be negative");
        }
        if (attempts == 0 && status == JobStatus.PUBLISHED) {
            attempts = 1; // written before attempts were counted: it was sent once at least
        }
    }

    /** A job not yet published, or from before attempts were counted. */
    public CampaignJob(
            int schemaVersion,
            String campaignId,
            String jobId,
            Instant at,
            JobStatus status,
            Job job,
            String host,
            String volume,
            JobResult result) {
        this(schemaVersion, campaignId, jobId, at, status, job, host, volume, result, 0);
    }

    /** A job newly planned for {@code campaignId}, on {@code host} and {@code volume} (null for space checks). */
    public static CampaignJob planned(String campaignId, Job job, String host, String volume, Instant now) {
        return new CampaignJob(
                Schema.VERSION, campaignId, job.jobId(), now, JobStatus.PLANNED, job, host, volume, null);
    }

    @Override
    public String key() {

        return campaignId + "/job/" + jobId;
    }

    public CampaignJob with(JobStatus newStatus, JobResult newResult, Instant now) {
        return new CampaignJob(
                schemaVersion, campaignId, jobId, now, newStatus, job, host, volume, newResult, attempts);
    }

    /** The job sent to its pool once more (the first time, or again after a stall). */
    public CampaignJob published(Instant now) {
        return new CampaignJob(
                schemaVersion, campaignId, jobId, now, JobStatus.PUBLISHED, job, host, volume, null, attempts + 1);
    }
}
