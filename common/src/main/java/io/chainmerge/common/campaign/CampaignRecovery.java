package io.chainmerge.common.campaign;

import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.Schema;
import java.time.Instant;
import java.util.List;

/**
 * A space recovery: what the coordinator does for a merge that does not fit on its volume (refused for
 * space by the worker, or planned on a volume already under its reserve). Its steps run in order, each
 * published only once the one before succeeded: move disks to a volume with room (a transplant), merge
 * there, and optionally move the result back. Keyed {@code <campaign>/recovery/<recoveryId>}; each event
 * carries the whole recovery, and the steps' own jobs are recorded as campaign jobs when their turn
 * comes, so a restarted coordinator carries on from the first step without a success.
 *
 * @param jobId the merge the recovery stands in for
 * @param trigger {@code refused} (the worker's space guard said no) or {@code under-reserve} (the space
 *     check found the volume below its reserve, so the merge was not sent)
 * @param requiredBytes the space the merge needs on its volume (the worker's exact figure when refused)
 * @param availableBytes what the volume had, less its reserve
 * @param explanation why these disks go there, in a sentence
 * @param steps the jobs, in the order they run (empty when impossible)
 * @param message why it failed or is impossible; null otherwise
 */
public record CampaignRecovery(
        int schemaVersion,
        String campaignId,
        String jobId,
        Instant at,
        String recoveryId,
        RecoveryStatus status,
        String trigger,
        String pool,
        String host,
        String volume,
        long requiredBytes,
        long availableBytes,
        String explanation,
        List<Step> steps,
        String message)
        implements CampaignEvent {

    public CampaignRecovery {
        if (schemaVersion != Schema.VERSION) {
            throw new IllegalArgumentException("schemaVersion " + schemaVersion + " is not supported");
        }
        if (campaignId == null || jobId == null || at == null || recoveryId == null || status == null) {
            throw new IllegalArgumentException("campaignId, jobId, at, recoveryId and status are required");
        }
        steps = steps == null ? List.of() : List.copyOf(steps);
        if (steps.isEmpty() && status != RecoveryStatus.IMPOSSIBLE) {
            throw new IllegalArgumentException("a recovery has steps unless it is impossible");
        }
    }

    /**
     * One step of a recovery.
     *
     * @param action {@code move} (disks to the volume with room), {@code merge} (there), {@code move-back}
     *     (the result to where it was) or {@code make-room} (other disks off the full volume)
     * @param explanation what the step does, for people
     * @param job the job the step publishes
     * @param host the worker expected to run it (the receiving one for a transplant)
     * @param volume the volume it works on (the target's for a transplant), for the per-volume limit
     * @param bytes the space the step takes on that volume (the files moved there plus the merge growth
     *     that follows), which other recoveries of the campaign do not count on while this one runs
     */
    public record Step(String action, String explanation, Job job, String host, String volume, long bytes) {
        public Step {
            if (action == null || job == null) {
                throw new IllegalArgumentException("a recovery step needs an action and a job");
            }
            if (bytes < 0) {
                throw new IllegalArgumentException("a recovery step's bytes cannot be negative");
            }
        }
    }

    @Override
    public String key() {
        return campaignId + "/recovery/" + recoveryId;
    }

    public CampaignRecovery with(RecoveryStatus newStatus, String newMessage, Instant now) {
        return new CampaignRecovery(
                schemaVersion,
                campaignId,
                jobId,
                now,
                recoveryId,
                newStatus,
                trigger,
                pool,
                host,
                volume,
                requiredBytes,
                availableBytes,
                explanation,
                steps,
                newMessage);
    }
}
