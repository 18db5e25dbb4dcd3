package io.chainmerge.common.campaign;

import io.chainmerge.common.message.Schema;
import java.time.Instant;

/**
 * A selected disk the plan leaves alone, and why: {@code siblings} (merging it would change a disk
 * with other children), {@code orphaned} / {@code missing-parent} (its parent is modified or gone),
 * {@code invalid-chain}, {@code pending-merge}, {@code unreachable} (its pool never answered the
 * space check). Nothing was sent for it and nothing changed.
 */
public record CampaignSkip(
        int schemaVersion,
        String campaignId,
        String jobId,
        Instant at,
        String pool,
        String host,
        String disk,
        String reason,
        String message)
        implements CampaignEvent {
    public CampaignSkip {
        if (schemaVersion != Schema.VERSION) {
            throw new IllegalArgumentException("schemaVersion " + schemaVersion + " is not supported");
        }
        if (campaignId == null || pool == null || disk == null || reason == null || at == null) {
            throw new IllegalArgumentException("campaignId, at, pool, disk and reason are required");
        }
    }

    @Override
    public String key() {
        return campaignId + "/skip/" + pool + ":" + disk;
    }
}
