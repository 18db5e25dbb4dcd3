package io.chainmerge.common.campaign;

import io.chainmerge.common.message.Schema;
import java.time.Instant;

/**
 * A campaign over for longer than the coordinator's {@code campaigns.retention}, folded to its totals. The
 * coordinator writes it, then a tombstone for each of the campaign's jobs, skips and recoveries, so what a
 * coordinator reads when it starts depends on the work still to do, not on history. The campaign's spec,
 * state and history of actions stay.
 *
 * @param totals the campaign's totals when it was folded
 * @param dropped how many entities (jobs, skips, recoveries) the fold dropped
 */
public record CampaignSummarized(
        int schemaVersion, String campaignId, String jobId, Instant at, CampaignReport.Totals totals, int dropped)
        implements CampaignEvent {
    public CampaignSummarized {
        if (schemaVersion != Schema.VERSION) {
            throw new IllegalArgumentException("schemaVersion " + schemaVersion + " is not supported");
        }
        if (campaignId == null || at == null || totals == null) {
            throw new IllegalArgumentException("campaignId, at and totals are required");
        }
    }

    @Override
    public String key() {
        return campaignId + "/summary";
    }
}
