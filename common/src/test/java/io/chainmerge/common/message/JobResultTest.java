package io.chainmerge.common.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.common.json.JsonCodec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Results are built by name (succeeded, unsuccessful, with what the job did), never by position. */
class JobResultTest {
    private final MessageCodec codec = new MessageCodec(new JsonCodec());
    private final Instant at = Instant.parse("2026-11-25T10:00:00Z");
    private final Duration took = Duration.ofMillis(1234);
    private final MergeJob job = new MergeJob(
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
            0,
            null);

    @Test
    void aSucceededMergeCarriesTheJobsIdsAndWhatItDidAndSurvivesTheWire() throws Exception {
        MergeOutcome outcome = new MergeOutcome(
                false,
                false,
                List.of("/srv/v1/vm_2.avhdx", "/srv/v1/vm_1.avhdx"),
                "/srv/v1/vm.vhdx",
                4096,
                8192,
                1 << 30,
                8192,
                4096,
                List.of("/srv/v1/vm_2.avhdx", "/srv/v1/vm_1.avhdx"),
                List.of(),
                null);

        JobResult result =
                JobResult.succeeded(job, "w1", at, took).withMerge(4096, List.of("/srv/v1/vm.vhdx"), outcome);

        assertThat(result)
                .isEqualTo(new JobResult(
                        Schema.VERSION,
                        "j2",
                        "c1",
                        JobKind.MERGE,
                        "pool-a",
                        "w1",
                        Outcome.SUCCEEDED,
                        null,
                        4096,
                        at,
                        took,
                        List.of("/srv/v1/vm.vhdx"),
                        outcome,
                        null,
                        List.of(),
                        false));
        assertThat(codec.read(codec.write(result), JobResult.class)).isEqualTo(result);
        JobResult again = result.asRedelivered();
        assertThat(again.redelivered()).isTrue();
        assertThat(again)
                .usingRecursiveComparison()
                .ignoringFields("redelivered")
                .isEqualTo(result);
    }

    @Test
    void eachWitherChangesOnlyWhatItNames() {
        JobResult base = JobResult.succeeded(job, "w1", at, took);

        JobResult chained = base.withResultingChain(List.of("/srv/v1/vm_1.avhdx", "/srv/v1/vm.vhdx"));
        JobResult inventoried = base.withInventory(List.of());

        assertThat(chained.resultingChain()).containsExactly("/srv/v1/vm_1.avhdx", "/srv/v1/vm.vhdx");
        assertThat(chained.withResultingChain(List.of())).isEqualTo(base);
        assertThat(inventoried).isEqualTo(base);
        assertThat(base.withTransplant(List.of(), null)).isEqualTo(base);
        assertThat(base.bytesMerged()).isZero();
        assertThat(base.outcome()).isEqualTo(Outcome.SUCCEEDED);
    }

    @Test
    void anUnsuccessfulResultNeedsItsProblemAndCannotClaimSuccess() {
        Problem problem = new Problem("refused", "in-use", "held by pid 7", "/srv/v1/vm.vhdx", null, null, Map.of());

        JobResult refused = JobResult.unsuccessful(job, "w1", Outcome.REFUSED, problem, at, took);

        assertThat(refused.problem()).isEqualTo(problem);
        assertThat(refused.worker()).isEqualTo("w1");
        assertThat(refused.resultingChain()).isEmpty();
        assertThatThrownBy(() -> JobResult.unsuccessful(job, "w1", Outcome.SUCCEEDED, null, at, took))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> JobResult.unsuccessful(job, "w1", Outcome.FAILED, null, at, took))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
