package io.chainmerge.common.campaign;

import com.fasterxml.jackson.annotation.JsonValue;
import io.chainmerge.common.message.Schema;
import java.time.Instant;
import java.util.List;

/**
 * A backup system's request (one CloudEvent, however often delivered) in its standing campaign, and
 * where it stands. Recorded before the event's offset is committed, so the request and the jobs it
 * became survive a coordinator restart; the request id comes from the event's source and id, so a
 * redelivered event finds it here and starts nothing new.
 *
 * @param requestId {@code br-} and a hash of the event's source and id; the notification's correlation id
 * @param pool the pool whose workers see the files; resolved from {@code host} when the event named a host
 * @param disk for {@code checkpoint-released}: the differencing disk to merge into its parent
 * @param folder for {@code cleanup-requested}: every chain below it is merged down to its root
 * @param deadline a merge not started by then is not started at all (answered {@code deadline-passed})
 * @param priority higher runs first among the campaign's waiting merges
 * @param scanJobId the space check the request waits for before its merges can be planned, or null
 * @param jobIds the merge jobs the request became, once planned
 * @param skipped disks under the request's folder the plan left alone, with the reason
 * @param outcome what the backup system was told, once {@code ANSWERED}
 */
public record BackupRequest(
        int schemaVersion,
        String campaignId,
        String jobId,
        Instant at,
        String requestId,
        Kind kind,
        String source,
        String eventId,
        String pool,
        String host,
        String disk,
        String folder,
        Instant deadline,
        int priority,
        Instant receivedAt,
        Status status,
        String scanJobId,
        List<String> jobIds,
        List<CampaignSkip> skipped,
        BackupOutcome outcome)
        implements CampaignEvent {

    public BackupRequest {
        if (schemaVersion != Schema.VERSION) {
            throw new IllegalArgumentException("schemaVersion " + schemaVersion + " is not supported");
        }
        if (campaignId == null || at == null || requestId == null || kind == null || status == null) {
            throw new IllegalArgumentException("campaignId, at, requestId, kind and status are required");
        }
        if (source == null || eventId == null || receivedAt == null) {
            throw new IllegalArgumentException("source, eventId and receivedAt are required");
        }
        if ((kind == Kind.CHECKPOINT_RELEASED) != (disk != null)
                || (kind == Kind.CLEANUP_REQUESTED) != (folder != null)) {
            throw new IllegalArgumentException("a checkpoint release names a disk, a cleanup a folder");
        }
        if ((status == Status.ANSWERED) != (outcome != null)) {
            throw new IllegalArgumentException("a request has an outcome exactly when it is answered");
        }
        jobIds = jobIds == null ? List.of() : List.copyOf(jobIds);
        skipped = skipped == null ? List.of() : List.copyOf(skipped);
    }

    @Override
    public String key() {
        return campaignId + "/request/" + requestId;
    }

    /** The same request at a later stage. */
    public BackupRequest with(
            Status newStatus,
            String newPool,
            String newScanJobId,
            List<String> newJobIds,
            List<CampaignSkip> newSkipped,
            BackupOutcome newOutcome,
            Instant now) {
        return new BackupRequest(
                schemaVersion,
                campaignId,
                jobId,
                now,
                requestId,
                kind,
                source,
                eventId,
                newPool,
                host,
                disk,
                folder,
                deadline,
                priority,
                receivedAt,
                newStatus,
                newScanJobId,
                newJobIds,
                newSkipped,
                newOutcome);
    }

    /** What the backup system asked for; the wire name ends the CloudEvent type. */
    public enum Kind {
        /** A backup is done with a checkpoint: merge its differencing disk into the parent. */
        CHECKPOINT_RELEASED("checkpoint-released"),
        /** Merge every chain below a folder down to its root. */
        CLEANUP_REQUESTED("cleanup-requested");

        private final String wireName;

        Kind(String wireName) {
            this.wireName = wireName;
        }

        @JsonValue
        public String wireName() {
            return wireName;
        }
    }

    /** Received (its merges not planned yet), planned (its jobs exist), answered (its outcome was published). */
    public enum Status {
        RECEIVED("received"),
        PLANNED("planned"),
        ANSWERED("answered");

        private final String wireName;

        Status(String wireName) {
            this.wireName = wireName;
        }

        @JsonValue
        public String wireName() {
            return wireName;
        }
    }
}
