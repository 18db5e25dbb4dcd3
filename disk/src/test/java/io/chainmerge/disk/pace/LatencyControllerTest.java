package io.chainmerge.disk.pace;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * The controller on recorded latency traces (one sample a second, in milliseconds, as a volume's
 * counters gave them) and on a volume whose latency rises with the merge's pace.
 */
class LatencyControllerTest {
    private static final long MIB = 1 << 20;
    private static final PaceSettings SETTINGS =
            new PaceSettings(Duration.ofMillis(20), Duration.ofMillis(50), 8 * MIB, 200 * MIB, Duration.ofSeconds(1));

    /** Feeds a trace of latencies in milliseconds (negative: nothing measured); returns each decision. */
    private static List<PaceDecision> run(LatencyController controller, double... trace) {
        List<PaceDecision> out = new ArrayList<>();
        for (double ms : trace) {
            out.add(controller.step(ms < 0 ? OptionalLong.empty() : OptionalLong.of((long) (ms * 1e6))));
        }
        return out;
    }

    @Test
    void aQuietVolumeKeepsTheMergeAtItsFullRate() {
        List<PaceDecision> decisions = run(new LatencyController(SETTINGS), 2, 3, 1.5, 4, 2, 3);
        assertThat(decisions).allSatisfy(d -> {
            assertThat(d.bytesPerSecond()).isEqualTo(200 * MIB);
            assertThat(d.paused()).isFalse();
        });
        assertThat(decisions.get(0).reason()).isEqualTo("latency 2.0 ms <= 20 ms");
    }

    @Test
    void latencyOverTheTargetHalvesThePaceDownToTheMinimumAndSaysWhy() {
        List<PaceDecision> decisions = run(new LatencyController(SETTINGS), 35, 35, 35, 35, 35, 35);
        assertThat(decisions.stream().map(PaceDecision::bytesPerSecond))
                .containsExactly(100 * MIB, 50 * MIB, 25 * MIB, 12 * MIB + MIB / 2, 8 * MIB, 8 * MIB);
        assertThat(decisions.get(0).reason()).isEqualTo("latency 35 ms > 20 ms");
        assertThat(decisions).noneMatch(PaceDecision::paused);
    }

    @Test
    void theMergeRecoversByTenthsOfItsRateOnceTheLatencyIsBack() {
        LatencyController controller = new LatencyController(SETTINGS);
        run(controller, 40, 40, 40, 40, 40); // down to the minimum
        List<PaceDecision> recovery = run(controller, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5);
        for (int i = 1; i < recovery.size(); i++) {
            assertThat(recovery.get(i).bytesPerSecond())
                    .isGreaterThanOrEqualTo(recovery.get(i - 1).bytesPerSecond());
        }
        assertThat(recovery.get(0).bytesPerSecond()).isEqualTo(28 * MIB);
        assertThat(recovery.get(recovery.size() - 1).bytesPerSecond()).isEqualTo(200 * MIB);
    }

    @Test
    void latencyOverThePauseThresholdTwiceInARowPausesUntilItIsBackUnderTheTarget() {
        LatencyController controller = new LatencyController(SETTINGS);
        List<PaceDecision> d = run(controller, 80, 90, 85, 30, 19);
        assertThat(d.get(0).paused()).as("one spike does not pause").isFalse();
        assertThat(d.get(1).paused()).isTrue();
        assertThat(d.get(1).reason()).isEqualTo("latency 90 ms > pause 50 ms: paused");
        assertThat(d.get(2).paused()).isTrue();
        assertThat(d.get(3).paused())
                .as("under the pause threshold but over the target")
                .isTrue();
        assertThat(d.get(3).reason()).isEqualTo("latency 30 ms > 20 ms: still paused");
        assertThat(d.get(4).paused()).isFalse();
        assertThat(d.get(4).bytesPerSecond()).isEqualTo(8 * MIB);
    }

    @Test
    void aPauseThatMeasuresNothingGoesOnAtTheMinimumRate() {
        LatencyController controller = new LatencyController(SETTINGS);
        List<PaceDecision> d = run(controller, 80, 80, -1);
        assertThat(d.get(1).paused()).isTrue();
        assertThat(d.get(2).paused()).isFalse();
        assertThat(d.get(2).bytesPerSecond()).isEqualTo(8 * MIB);
    }

    @Test
    void withoutARateLimitTheMergeFallsFromItsOwnThroughputAndReturnsToNoLimit() {
        LatencyController controller = new LatencyController(SETTINGS.withMaxRate(0));
        controller.observedThroughput(400 * MIB);
        List<PaceDecision> d = run(controller, 5, 30, 5, 5, 5, 5, 5);
        assertThat(d.get(0).bytesPerSecond()).as("no limit").isZero();
        assertThat(d.get(1).bytesPerSecond()).isEqualTo(200 * MIB);
        assertThat(d.get(2).bytesPerSecond()).isEqualTo(240 * MIB);
        assertThat(d.get(6).bytesPerSecond()).as("back to no limit").isZero();
    }

    /**
     * A volume whose foreground latency is 5 ms plus 30 ms per 100 MiB/s of merge: the pace that
     * keeps 20 ms is 50 MiB/s. After it settles, the pace never goes above that plus one step (20
     * MiB/s) nor below half of it, and the latency never exceeds the target by more than one step's
     * worth; it never pauses.
     */
    @Test
    void onAVolumeWhoseLatencyFollowsThePaceTheOscillationStaysWithinItsBound() {
        LatencyController controller = new LatencyController(SETTINGS);
        double latencyMs = 5;
        List<Long> rates = new ArrayList<>();
        List<Double> latencies = new ArrayList<>();
        for (int second = 0; second < 300; second++) {
            PaceDecision d = controller.step(OptionalLong.of((long) (latencyMs * 1e6)));
            assertThat(d.paused()).isFalse();
            long rate = d.bytesPerSecond() == 0 ? 200 * MIB : d.bytesPerSecond();
            latencyMs = 5 + 30.0 * rate / (100 * MIB);
            if (second >= 30) {
                rates.add(rate);
                latencies.add(latencyMs);
            }
        }
        long step = 20 * MIB;
        assertThat(rates).allSatisfy(r -> assertThat(r).isBetween(25 * MIB - step, 50 * MIB + step));
        assertThat(latencies).allSatisfy(l -> assertThat(l).isLessThanOrEqualTo(20 + 30.0 * 20 / 100));
        double mean = rates.stream().mapToLong(Long::longValue).average().orElseThrow();
        assertThat(mean).as("it uses the room it has").isGreaterThan(30.0 * MIB);
    }

    @Test
    void settingsThatCannotWorkAreRefusedWithTheKeyToFix() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() ->
                        new PaceSettings(Duration.ofMillis(20), Duration.ofMillis(10), MIB, 0, Duration.ofSeconds(1)))
                .hasMessageContaining("io.latency-pause");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new PaceSettings(
                        Duration.ofMillis(20), Duration.ZERO, 100 * MIB, 10 * MIB, Duration.ofSeconds(1)))
                .hasMessageContaining("io.min-rate");
    }
}
