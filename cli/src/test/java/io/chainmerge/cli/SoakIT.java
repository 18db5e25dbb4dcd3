package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The soak, short, for CI: a broker, two coordinator replicas and two workers as processes of their own, rounds of
 * merge campaigns over generated chains for about 80 s while workers, coordinators and the broker are SIGKILLed and
 * started again (seed 18: the first three kills are one of each kind). Every chain reads what it read before, every
 * campaign finishes, and no merge job has more than one first-run result. {@code bench/soak.sh} runs it longer.
 */
class SoakIT {
    @TempDir
    Path work;

    @Test
    void campaignsUnderKillsOfEveryKindLoseNothingAndRunNothingTwice() throws Exception {
        Soak.Totals totals = new Soak(new Soak.Options(
                        Duration.ofSeconds(80), 18, work, Path.of("target/chainmerge.jar"), System.out))
                .run();

        assertThat(totals.problems).as("problems").isEmpty();
        assertThat(totals.roundsUnfinished)
                .as("rounds whose campaign did not finish")
                .isZero();
        assertThat(totals.rounds).as("rounds").isGreaterThanOrEqualTo(2);
        assertThat(totals.chainsVerified).as("chains verified").isEqualTo(totals.chains);
        assertThat(totals.bytesLost).as("bytes lost").isZero();
        assertThat(totals.doubleRuns).as("jobs run twice").isZero();
        assertThat(totals.merges).as("merges").isPositive();
        assertThat(totals.mergeJobs).as("merge jobs with a result").isGreaterThanOrEqualTo(totals.merges);
        for (Soak.Kind kind : Soak.Kind.values()) {
            assertThat(totals.kills(kind)).as("kills of " + kind).isPositive();
        }
    }
}
