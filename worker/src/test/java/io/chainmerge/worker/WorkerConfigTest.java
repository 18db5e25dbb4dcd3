package io.chainmerge.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Where a worker tells others to fetch transplanted files from (it travels in its space checks). */
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
}
