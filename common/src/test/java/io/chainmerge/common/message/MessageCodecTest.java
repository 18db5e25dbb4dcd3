package io.chainmerge.common.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.common.campaign.CampaignEvent;
import io.chainmerge.common.campaign.CampaignJob;
import io.chainmerge.common.campaign.JobStatus;
import io.chainmerge.common.json.JsonCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MessageCodecTest {
    private final MessageCodec codec = new MessageCodec(new JsonCodec());
    private final Instant at = Instant.parse("2026-11-25T10:00:00Z");

    @Test
    void everyJobKindSurvivesARoundTripAndDispatchesToItsOwnVisitorMethod() throws Exception {
        List<Job> jobs = List.of(
                new SpaceCheckJob(Schema.VERSION, "j1", "c1", "pool-a", at, List.of("/srv/v1")),
                new MergeJob(
                        Schema.VERSION,
                        "j2",
                        "c1",
                        "pool-a",
                        at,
                        "/srv/v1/vm.vhdx",
                        "/srv/v1/vm_2.avhdx",
                        "/srv/v1/vm.vhdx",
                        null,
                        null,
                        false,
                        200L << 20,
                        new ReserveSpec(1L << 30, 0.05)),
                new SetParentJob(
                        Schema.VERSION,
                        "j3",
                        "c1",
                        "pool-a",
                        at,
                        "/srv/v1/vm.vhdx",
                        "/srv/v1/vm_1.avhdx",
                        "/srv/v2/vm.vhdx"),
                new TransplantJob(
                        Schema.VERSION,
                        "j4",
                        "c1",
                        "pool-b",
                        at,
                        "/srv/v1/vm.vhdx",
                        List.of("/srv/v1/vm_1.avhdx", "/srv/v1/vm.vhdx"),
                        "/srv/b1/vm",
                        new TransplantSource("pool-a", "storage-a", "http://storage-a:8081/"),
                        TransplantMode.MOVE,
                        64L << 20,
                        0,
                        null));
        JobVisitor<String, RuntimeException> names = new JobVisitor<>() {
            @Override
            public String spaceCheck(SpaceCheckJob job) {
                return "space-check";
            }

            @Override
            public String merge(MergeJob job) {
                return "merge";
            }

            @Override
            public String setParent(SetParentJob job) {
                return "set-parent";
            }

            @Override
            public String transplant(TransplantJob job) {
                return "transplant";
            }
        };
        for (Job job : jobs) {
            byte[] bytes = codec.write(job);
            assertThat(new String(bytes, StandardCharsets.UTF_8))
                    .contains("\"kind\":\"" + job.kind().wireName() + "\"");
            Job back = codec.readJob(bytes);
            assertThat(back).isEqualTo(job);
            assertThat(back.accept(names)).isEqualTo(job.kind().wireName());
        }
    }

    @Test
    void aResultCarriesItsProblemOnlyWhenItDidNotSucceed() throws Exception {
        Problem space = new Problem(
                "refused",
                "insufficient-space",
                "needs more",
                "/srv/v1/vm.vhdx",
                null,
                null,
                Map.of("requiredBytes", 10, "availableBytes", 5));
        JobResult refused = new JobResult(
                Schema.VERSION,
                "j2",
                "c1",
                JobKind.MERGE,
                "pool-a",
                "w1",
                Outcome.REFUSED,
                space,
                0,
                at,
                Duration.ofMillis(12),
                List.of(),
                null,
                null,
                List.of(),
                false);
        assertThat(codec.read(codec.write(refused), JobResult.class)).isEqualTo(refused);
        assertThatThrownBy(() -> new JobResult(
                        Schema.VERSION,
                        "j2",
                        "c1",
                        JobKind.MERGE,
                        "pool-a",
                        "w1",
                        Outcome.SUCCEEDED,
                        space,
                        0,
                        at,
                        Duration.ZERO,
                        List.of(),
                        null,
                        null,
                        List.of(),
                        false))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aTransplantJobIsRefusedWhenItsDisksOrFiguresCannotMeanAnything() {
        assertThatThrownBy(() -> transplant(List.of(), "/srv/b1", null, 0)).hasMessageContaining("at least one disk");
        assertThatThrownBy(() -> transplant(List.of("/srv/v1/a/vm.vhdx", "/srv/v1/b/vm.vhdx"), "/srv/b1", null, 0))
                .hasMessageContaining("file name of its own");
        assertThatThrownBy(() -> transplant(List.of("vm.vhdx"), "/srv/b1", null, 0))
                .hasMessageContaining("disks[] must be an absolute path");
        assertThatThrownBy(() -> transplant(List.of("/srv/v1/vm.vhdx"), "b1", null, 0))
                .hasMessageContaining("targetFolder must be an absolute path");
        assertThatThrownBy(() -> transplant(List.of("/srv/v1/vm.vhdx"), "/srv/b1", null, -1))
                .hasMessageContaining("roomForMergeBytes");
        assertThatThrownBy(() -> transplant(
                        List.of("/srv/v1/vm.vhdx"), "/srv/b1", new TransplantSource("pool-a", "a", "ftp://a"), 0))
                .hasMessageContaining("source.url");
        assertThatThrownBy(() -> codec.readJob(("{\"kind\":\"transplant\",\"schemaVersion\":1,\"jobId\":\"j\","
                                + "\"campaignId\":\"c\",\"pool\":\"p\",\"issuedAt\":\"2026-11-25T10:00:00Z\","
                                + "\"chain\":\"/a.vhdx\",\"disks\":[\"/a.vhdx\"],\"targetFolder\":\"/b\","
                                + "\"source\":null,\"mode\":\"teleport\",\"roomForMergeBytes\":0,\"rateBytesPerSecond\":0,"
                                + "\"reserve\":null}")
                        .getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining("teleport");
    }

    private TransplantJob transplant(List<String> disks, String target, TransplantSource source, long room) {
        return new TransplantJob(
                Schema.VERSION,
                "t",
                "c",
                "pool-b",
                at,
                "/srv/v1/vm.vhdx",
                disks,
                target,
                source,
                TransplantMode.COPY,
                room,
                0,
                null);
    }

    @Test
    void malformedRecordsAreRejectedWithAReasonThatNamesTheProblem() {
        assertThatThrownBy(() -> codec.readJob("{".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(MalformedMessageException.class)
                .hasMessageStartingWith("not a job");
        assertThatThrownBy(() ->
                        codec.readJob(("{\"kind\":\"merge\",\"schemaVersion\":1,\"jobId\":\"j\",\"campaignId\":\"c\","
                                        + "\"pool\":\"p\",\"issuedAt\":\"2026-11-25T10:00:00Z\",\"chain\":\"/a.vhdx\",\"child\":\"relative.avhdx\","
                                        + "\"dryRun\":false,\"rateBytesPerSecond\":0}")
                                .getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining("child must be an absolute path");
        assertThatThrownBy(() -> codec.readJob(
                        ("{\"kind\":\"space-check\",\"schemaVersion\":1,\"jobId\":\"j\",\"campaignId\":\"c\","
                                        + "\"pool\":\"p\",\"issuedAt\":\"2026-11-25T10:00:00Z\",\"volumes\":[],\"extra\":1}")
                                .getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining("extra");
        assertThatThrownBy(() -> codec.readJob(
                        ("{\"kind\":\"space-check\",\"schemaVersion\":1,\"jobId\":\"j\",\"campaignId\":\"c\","
                                        + "\"pool\":\"no/slashes\",\"issuedAt\":\"2026-11-25T10:00:00Z\",\"volumes\":[]}")
                                .getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining("pool may hold only");
    }

    @Test
    void campaignEventsAreKeyedByTheEntityTheyDescribe() throws Exception {
        SpaceCheckJob scan = new SpaceCheckJob(Schema.VERSION, "c1-scan-a", "c1", "pool-a", at, List.of());
        CampaignJob planned =
                new CampaignJob(Schema.VERSION, "c1", scan.jobId(), at, JobStatus.PLANNED, scan, null, null, null);
        CampaignJob published = planned.with(JobStatus.PUBLISHED, null, at.plusSeconds(1));
        assertThat(published.key()).isEqualTo(planned.key()).isEqualTo("c1/job/c1-scan-a");
        assertThat(codec.read(codec.write(published), CampaignEvent.class)).isEqualTo(published);
    }

    @Test
    void aJobEventCountsItsAttemptsAndOneWrittenBeforeTheyWereCountedReadsAsSentOnce() throws Exception {
        SpaceCheckJob scan = new SpaceCheckJob(Schema.VERSION, "c1-scan-a", "c1", "pool-a", at, List.of());
        CampaignJob planned = CampaignJob.planned("c1", scan, null, null, at);
        CampaignJob republished = planned.published(at).published(at.plusSeconds(600));
        assertThat(planned.attempts()).isZero();
        assertThat(republished.attempts()).isEqualTo(2);
        assertThat(codec.read(codec.write(republished), CampaignEvent.class)).isEqualTo(republished);

        String legacy = new String(codec.write(planned.with(JobStatus.PUBLISHED, null, at)), StandardCharsets.UTF_8)
                .replace(",\"attempts\":1", "");
        assertThat(legacy).doesNotContain("attempts");
        CampaignJob read = (CampaignJob) codec.read(legacy.getBytes(StandardCharsets.UTF_8), CampaignEvent.class);
        assertThat(read.attempts()).isEqualTo(1);
        assertThat(read.published(at).attempts()).isEqualTo(2);
    }

    @Test
    void progressCarriesItsPacingAndWithoutOneIsWrittenAsEarlierReleasesWroteIt() throws Exception {
        JobProgress paced = new JobProgress(
                Schema.VERSION,
                "j1",
                "c1",
                "pool-a",
                "storage-a",
                "/srv/v1/vm_2.avhdx",
                1,
                2,
                3,
                at,
                new JobProgress.Pacing(50L << 20, false, "latency 35 ms > 20 ms"));
        assertThat(codec.read(codec.write(paced), JobProgress.class)).isEqualTo(paced);

        JobProgress fixed =
                new JobProgress(Schema.VERSION, "j1", "c1", "pool-a", "storage-a", "/srv/v1/vm_2.avhdx", 1, 2, 3, at);
        String written = new String(codec.write(fixed), StandardCharsets.UTF_8);
        assertThat(written).doesNotContain("pacing");
        assertThat(codec.read(codec.write(fixed), JobProgress.class)).isEqualTo(fixed);
        assertThatThrownBy(() -> new JobProgress.Pacing(-1, false, "x")).isInstanceOf(IllegalArgumentException.class);
    }
}
