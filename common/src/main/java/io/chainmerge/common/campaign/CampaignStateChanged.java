package io.chainmerge.common.campaign;

import io.chainmerge.common.message.Schema;
import java.time.Instant;

/**
 * A campaign's state and paused flag.
 *
 * @param reason why, for people (e.g. who cancelled it)
 */
public record CampaignStateChanged(
        int schemaVersion,
        String campaignId,
        String jobId,
        Instant at,
        CampaignState state,
        boolean paused,
        String reason)
        implements CampaignEvent {
    public CampaignStateChanged {
        if (schemaVersion != Schema.VERSION) {
            throw new IllegalArgumentException("schemaVersion " + schemaVersion + " is not supported");
        }
        if (campaignId == null || state == null || at == null) {
            throw new IllegalArgumentException("campaignId, at and state are required");
        }
    }

    @Override
    public String key() {
        return campaignId + "/state";
    }
}
