package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.BackupOutcome;
import io.chainmerge.common.campaign.BackupRequest;
import io.chainmerge.common.campaign.CampaignSkip;
import java.time.Instant;
import java.util.List;

/**
 * A standing campaign's backup request as {@code GET /v1/campaigns/{id}/requests} lists it: what the backup
 * system asked, where it stands, and, once answered, the outcome its notification carried. The state topic's
 * record without its envelope (type, schema version, campaign id).
 *
 * @param updatedAt when the request last changed stage
 */
record BackupRequestView(
        String requestId,
        BackupRequest.Kind kind,
        String source,
        String eventId,
        String pool,
        String host,
        String disk,
        String folder,
        Instant deadline,
        int priority,
        Instant receivedAt,
        Instant updatedAt,
        BackupRequest.Status status,
        List<String> jobIds,
        List<CampaignSkip> skipped,
        BackupOutcome outcome) {

    static BackupRequestView of(BackupRequest request) {
        return new BackupRequestView(
                request.requestId(),
                request.kind(),
                request.source(),
                request.eventId(),
                request.pool(),
                request.host(),
                request.disk(),
                request.folder(),
                request.deadline(),
                request.priority(),
                request.receivedAt(),
                request.at(),
                request.status(),
                request.jobIds(),
                request.skipped(),
                request.outcome());
    }

    /**
     * The list's order and cursor: the time received (zero-padded milliseconds, so text order is time order),
     * then the id, which breaks ties and keeps the order stable across replicas.
     */
    String cursor() {
        return String.format("%015d-%s", receivedAt.toEpochMilli(), requestId);
    }
}
