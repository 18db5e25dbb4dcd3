package io.chainmerge.common.campaign;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Instant;

/**
 * One fact about a campaign on {@code chainmerge.campaigns}. The topic is compacted, so each event is
 * keyed by the entity it is about ({@code <campaign>/spec}, {@code <campaign>/state},
 * {@code <campaign>/job/<job>}, {@code <campaign>/skip/<pool>:<disk>}, {@code <campaign>/recovery/<id>},
 * {@code <campaign>/request/<request>}, {@code <campaign>/action/<n>}, {@code <campaign>/summary}) and
 * carries that entity's whole
 * current state: compaction keeps the latest per entity, and replaying what is left rebuilds every
 * campaign.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = CampaignSubmitted.class, name = "submitted"),
    @JsonSubTypes.Type(value = CampaignStateChanged.class, name = "state"),
    @JsonSubTypes.Type(value = CampaignJob.class, name = "job"),
    @JsonSubTypes.Type(value = CampaignSkip.class, name = "skipped"),
    @JsonSubTypes.Type(value = CampaignRecovery.class, name = "recovery"),
    @JsonSubTypes.Type(value = BackupRequest.class, name = "request"),
    @JsonSubTypes.Type(value = CampaignAction.class, name = "action"),
    @JsonSubTypes.Type(value = CampaignSummarized.class, name = "summarized")
})
public sealed interface CampaignEvent
        permits CampaignSubmitted,
                CampaignStateChanged,
                CampaignJob,
                CampaignSkip,
                CampaignRecovery,
                BackupRequest,
                CampaignAction,
                CampaignSummarized {
    int schemaVersion();

    String campaignId();

    /** The job the event is about, or null. */
    String jobId();

    Instant at();

    /** The compaction key: the campaign and the entity the event is about. */
    @JsonIgnore
    String key();
}
