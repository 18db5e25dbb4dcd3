package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.campaign.CampaignSpec.Action;
import io.chainmerge.common.campaign.CampaignSpec.Limits;
import java.util.List;

/**
 * What every backup system's standing campaign runs with: its limits, the rate and reserve of its
 * merges (null for the workers' settings), and the windows in time they may run in (empty for any
 * time). A merge that does not fit is refused (no space recovery): the backup system hears of it and
 * decides.
 */
record BackupSettings(Limits limits, String rate, String reserve, List<String> windows, String timeZone) {

    /** The spec of {@code source}'s standing campaign, over the pools its requests have named. */
    CampaignSpec spec(String source, List<String> pools) {
        return new CampaignSpec(
                "backup requests from " + source,
                pools,
                List.of(),
                List.of(),
                null,
                Action.MERGE_ONE_LEVEL,
                null,
                limits,
                rate,
                reserve,
                false,
                null,
                null,
                null,
                null,
                windows,
                timeZone);
    }
}
