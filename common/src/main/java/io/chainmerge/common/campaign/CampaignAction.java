package io.chainmerge.common.campaign;

import io.chainmerge.common.message.Schema;
import java.time.Instant;

/**
 * Who did what to a campaign through the API: submitted, cancelled, paused, resumed or approved it. Kept
 * under a key of its own per action ({@code <campaign>/action/<n>}), so compaction keeps every one and
 * {@code campaign show} can say who paused a campaign even after it was resumed.
 *
 * @param sequence the action's place in the campaign's history, from 1
 * @param action {@code submit}, {@code cancel}, {@code pause}, {@code resume} or {@code approve}
 * @param principal the caller's name as the coordinator's principals file gives it ({@code anonymous} in
 *     insecure mode without a token)
 * @param address the caller's address as the coordinator saw it
 * @param detail what changed, for people (e.g. the recoveries approved)
 */
public record CampaignAction(
        int schemaVersion,
        String campaignId,
        String jobId,
        Instant at,
        int sequence,
        String action,
        String principal,
        String address,
        String detail)
        implements CampaignEvent {
    public CampaignAction {
        if (schemaVersion != Schema.VERSION) {
            throw new IllegalArgumentException("schemaVersion " + schemaVersion + " is not supported");
        }
        if (campaignId == null || at == null || action == null || principal == null || sequence < 1) {
            throw new IllegalArgumentException("campaignId, at, sequence, action and principal are required");
        }
    }

    @Override
    public String key() {
        return campaignId + "/action/" + sequence;
    }
}
