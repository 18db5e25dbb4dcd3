package io.chainmerge.disk.pace;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.merge.Pace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A volume's pace from its device's counters, or from the merges' own I/O, shared among its merges. */
class VolumePaceTest {
    private static final long MIB = 1 << 20;
    private static final PaceSettings SETTINGS =
            new PaceSettings(Duration.ofMillis(20), Duration.ZERO, 8 * MIB, 100 * MIB, Duration.ofSeconds(1));

    @TempDir
    Path dir;

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);

    private void tick() {
        clock.addAndGet(1_000_000_000L);
    }

    private BlockDevice device() throws IOException {
        Path block = Files.createDirectories(dir.resolve("sys/dev/block/9:9"));
        Files.writeString(block.resolve("stat"), "0 0 0 0 0 0 0 0 0 0 0\n");
        return new BlockDevice.Mount(dir, "ext4", "/dev/nothing", 9, 9)
                .device(dir.resolve("sys"))
                .orElseThrow();
    }

    private void counters(long ios, long millis) throws IOException {
        Files.writeString(dir.resolve("sys/dev/block/9:9/stat"), ios + " 0 0 " + millis + " 0 0 0 0 0 0 0\n");
    }

    /** One sample: the merges hold still, the device is read after the drain and after the measure. */
    private void sample(VolumePace.Share share, long ios, long millis) throws IOException {
        clock.addAndGet(1_000_000_000L);
        assertThat(share.bytesPerSecond()).as("quiet while measuring").isEqualTo(Pace.PAUSED);
        clock.addAndGet(VolumePace.DRAIN_NANOS);
        assertThat(share.bytesPerSecond()).isEqualTo(Pace.PAUSED); // the first reading
        counters(ios, millis);
        clock.addAndGet(VolumePace.MEASURE_NANOS);
    }

    @Test
    void theDevicesLatencyWhileTheMergesHoldStillSetsThePaceAndTheReasonSaysSo() throws IOException {
        BlockDevice device = device();
        VolumePace pace = new VolumePace(dir, SETTINGS, Optional.of(device), "test", clock::get);
        VolumePace.Share share = pace.join(0, () -> false);
        assertThat(share.bytesPerSecond()).isEqualTo(100 * MIB);
        // Whatever the merges' own requests did before the quiet window does not count.
        counters(5000, 900_000);
        sample(share, 5010, 900_350); // 10 I/Os of others, 35 ms each
        assertThat(share.bytesPerSecond()).isEqualTo(50 * MIB);
        assertThat(share.decision().reason()).isEqualTo("latency 35 ms > 20 ms");
        assertThat(pace.quiet()).isFalse();
        counters(9000, 990_000);
        sample(share, 9000, 990_000); // nobody else did any I/O: an idle volume
        assertThat(share.bytesPerSecond()).isEqualTo(60 * MIB);
        assertThat(share.decision().reason()).isEqualTo("latency 0.0 ms <= 20 ms");
    }

    @Test
    void twoMergesOnOneVolumeShareItsPaceAndEachKeepsItsOwnLimit() {
        VolumePace pace = new VolumePace(dir, SETTINGS, Optional.empty(), "test", clock::get);
        VolumePace.Share first = pace.join(0, () -> false);
        VolumePace.Share second = pace.join(30 * MIB, () -> false);
        assertThat(first.bytesPerSecond()).isEqualTo(50 * MIB);
        assertThat(second.bytesPerSecond()).isEqualTo(30 * MIB);
        second.close();
        second.close();
        assertThat(first.bytesPerSecond()).isEqualTo(100 * MIB);
        assertThat(pace.merges()).isEqualTo(1);
    }

    @Test
    void withoutADeviceTheMergesOwnTimingsAreTheLatency() {
        VolumePace pace = new VolumePace(dir, SETTINGS, Optional.empty(), "test", clock::get);
        VolumePace.Share share = pace.join(0, () -> false);
        // 8 MiB read and written (32 requests of 512 KiB) in 1.6 s: 50 ms a request.
        share.observed(8 * MIB, 1_600_000_000L);
        tick();
        assertThat(share.bytesPerSecond()).isEqualTo(50 * MIB);
        assertThat(pace.ownLatencyNanos()).isEqualTo(50_000_000L);
        tick();
        assertThat(share.bytesPerSecond()).as("nothing measured: kept").isEqualTo(50 * MIB);
    }

    @Test
    void aPausedVolumeAnswersPausedAndAStopIsHeard() {
        PaceSettings pausing =
                new PaceSettings(Duration.ofMillis(20), Duration.ofMillis(40), MIB, 0, Duration.ofSeconds(1));
        VolumePace pace = new VolumePace(dir, pausing, Optional.empty(), "test", clock::get);
        boolean[] stop = {false};
        VolumePace.Share share = pace.join(0, () -> stop[0]);
        for (int i = 0; i < 2; i++) {
            share.observed(8 * MIB, 3_200_000_000L); // 100 ms a request
            tick();
            share.bytesPerSecond();
        }
        assertThat(share.bytesPerSecond()).isEqualTo(Pace.PAUSED);
        assertThat(share.stopWanted()).isFalse();
        stop[0] = true;
        assertThat(share.stopWanted()).isTrue();
    }
}
