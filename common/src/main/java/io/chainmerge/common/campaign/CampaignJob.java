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
        JobResult result)
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
        return new CampaignJob(schemaVersion, campaignId, jobId, now, newStatus, job, host, volume, newResult);
    }
}
