package io.chainmerge.common.campaign;

import io.chainmerge.common.message.Schema;
import java.time.Instant;

/** A campaign was accepted with this spec. */
public record CampaignSubmitted(int schemaVersion, String campaignId, String jobId, Instant at, CampaignSpec spec)
        implements CampaignEvent {
    public CampaignSubmitted {
        if (schemaVersion != Schema.VERSION) {
            throw new IllegalArgumentException("schemaVersion " + schemaVersion + " is not supported");
        }
        if (campaignId == null || spec == null || at == null) {
            throw new IllegalArgumentException("campaignId, at and spec are required");
        }
    }

    @Override
    public String key() {
        return campaignId + "/spec";
    }
}
