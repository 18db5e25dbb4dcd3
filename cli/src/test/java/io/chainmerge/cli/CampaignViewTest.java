package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.json.JsonCodec;
import org.junit.jupiter.api.Test;

/** What a person following a campaign in the terminal reads about each job. */
class CampaignViewTest {
    private static final JsonCodec JSON = new JsonCodec();

    @Test
    void aPacedMergeSaysWhyItGoesSlowerAndAWaitingJobWhatItWaitsFor() throws Exception {
        CampaignReport report = JSON.mapper()
                .readValue(
                        """
                        {"campaignId": "c-1", "name": "night", "state": "running", "paused": false, "dryRun": false,
                         "totals": {"jobs": 2, "waiting": 1, "running": 1, "merged": 0, "refused": 0, "failed": 0,
                                    "skipped": 0, "bytesMerged": 0, "reclaimedBytes": 0},
                         "jobs": [
                          {"jobId": "m-1", "kind": "merge", "pool": "pool-a", "child": "/srv/v/vm01_1.avhdx",
                           "status": "published", "bytesMerged": 0, "reclaimedBytes": 0,
                           "progress": {"schemaVersion": 1, "jobId": "m-1", "campaignId": "c-1", "pool": "pool-a",
                                        "worker": "storage-a", "child": "/srv/v/vm01_1.avhdx",
                                        "bytesDone": 67108864, "bytesTotal": 134217728, "bytesPerSecond": 52428800,
                                        "at": "2026-12-07T22:00:02Z",
                                        "pacing": {"bytesPerSecond": 52428800, "paused": false,
                                                   "reason": "latency 35 ms > 20 ms"}}},
                          {"jobId": "m-2", "kind": "merge", "pool": "pool-a", "child": "/srv/v/vm02_1.avhdx",
                           "status": "planned", "bytesMerged": 0, "reclaimedBytes": 0, "waitingFor": "its chain is held by job m-9 of campaign c-0"}
                         ]}
                        """,
                        CampaignReport.class);

        assertThat(CampaignView.liveLines(report))
                .anySatisfy(line -> assertThat(line).isEqualTo("    paced to 50.0 MiB/s: latency 35 ms > 20 ms"));
        assertThat(CampaignView.jobLine(report.jobs().get(1)))
                .isEqualTo("waiting   pool-a vm02_1.avhdx (its chain is held by job m-9 of campaign c-0)");
    }
}
