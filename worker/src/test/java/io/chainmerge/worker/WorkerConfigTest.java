package io.chainmerge.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Where a worker tells others to fetch transplanted files from (it travels in its space checks), and
 * its pacing by latency.
 */
class WorkerConfigTest {
    private static Map<String, Object> settings(String advertised) {
        Map<String, Object> settings = new HashMap<>(
                Map.of("pool", "p", "volumes", List.of("/srv/vol1"), "kafka.bootstrap.servers", "localhost:9092"));
        if (advertised != null) {
            settings.put("http.advertised-url", advertised);
        }
        return settings;
    }

    @Test
    void theAdvertisedUrlIsTheSettingOrThisHostAndThePortInUse() {
        assertThat(WorkerConfig.of(settings("https://storage-a.example:9443/")).advertisedUrl(8081))
                .isEqualTo("https://storage-a.example:9443");
        assertThat(WorkerConfig.of(settings(null)).advertisedUrl(40123))
                .startsWith("http://")
                .endsWith(":40123");
    }

    @Test
    void anAdvertisedUrlThatIsNotHttpIsRefusedWithTheReason() {
        assertThatThrownBy(() -> WorkerConfig.of(settings("storage-a:8081")))
                .hasMessageContaining("http.advertised-url must be an http:// or https:// URL");
    }

    @Test
    void aLogFormatOtherThanTextOrJsonStopsTheWorkerNamingTheKey() {
        Map<String, Object> xml = settings(null);
        xml.put("log.format", "xml");
        assertThatThrownBy(() -> WorkerConfig.of(xml))
                .isInstanceOf(io.chainmerge.common.config.ConfigException.class)
                .hasMessage("log.format must be text or json, not xml");
        Map<String, Object> json = settings(null);
        json.put("log.format", "JSON");
        assertThat(WorkerConfig.of(json).pool()).isEqualTo("p");
    }

    @Test
    void pacingIsOffByDefaultAndItsSettingsReachThePace() {
        assertThat(WorkerConfig.of(settings(null)).pacing().enabled()).isFalse();
        Map<String, Object> paced = settings(null);
        paced.put("io.latency-target", "20ms");
        paced.put("io.latency-pause", "80ms");
        paced.put("io.min-rate", "4MiB");
        paced.put("rate", "200MiB");
        var pacing = WorkerConfig.of(paced).pacing();
        assertThat(pacing.enabled()).isTrue();
        assertThat(pacing.latencyPause()).isEqualTo(java.time.Duration.ofMillis(80));
        assertThat(pacing.minRate()).isEqualTo(4L << 20);
        assertThat(pacing.maxRate()).isEqualTo(200L << 20);
    }

    @Test
    void pacingThatCannotWorkStopsTheWorkerAtStartWithTheKeyToFix() {
        Map<String, Object> pauseUnderTarget = settings(null);
        pauseUnderTarget.put("io.latency-target", "20ms");
        pauseUnderTarget.put("io.latency-pause", "10ms");
        assertThatThrownBy(() -> WorkerConfig.of(pauseUnderTarget)).hasMessageContaining("io.latency-pause");
        Map<String, Object> minAboveRate = settings(null);
        minAboveRate.put("io.latency-target", "20ms");
        minAboveRate.put("rate", "1MiB");
        assertThatThrownBy(() -> WorkerConfig.of(minAboveRate)).hasMessageContaining("io.min-rate");
        Map<String, Object> pauseAlone = settings(null);
        pauseAlone.put("io.latency-pause", "50ms");
        assertThatThrownBy(() -> WorkerConfig.of(pauseAlone)).hasMessageContaining("io.latency-target");
        Map<String, Object> slowWithoutPacing = settings(null);
        slowWithoutPacing.put("rate", "1MiB");
        assertThat(WorkerConfig.of(slowWithoutPacing).rateBytesPerSecond()).isEqualTo(1L << 20);
    }
}
