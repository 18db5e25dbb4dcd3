package io.chainmerge.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {
    static final ConfigKey POOL = ConfigKey.required("pool", ConfigType.STRING, "the pool");
    static final ConfigKey VOLUMES = ConfigKey.required("volumes", ConfigType.LIST, "roots");
    static final ConfigKey RATE = ConfigKey.optional("rate", ConfigType.SIZE, 0L, "rate");
    static final ConfigKey GRACE =
            ConfigKey.optional("shutdown.grace", ConfigType.DURATION, Duration.ofSeconds(20), "grace");
    static final ConfigDef DEF = new ConfigDef("worker", "kafka.", List.of(POOL, VOLUMES, RATE, GRACE));

    @TempDir
    Path dir;

    @Test
    void flagsBeatTheEnvironmentWhichBeatsTheFileWhichBeatsTheDefaults() throws Exception {
        Path file = dir.resolve("worker.yaml");
        Files.writeString(
                file,
                """
                pool: from-file
                volumes: [/srv/a, /srv/b]
                rate: 100MiB
                shutdown:
                  grace: 5s
                kafka:
                  bootstrap.servers: file:9092
                  sasl.jaas.config: secret-from-file
                """);
        Config config = Config.resolve(
                DEF,
                Config.readFile(file),
                Map.of(
                        "CHAINMERGE_POOL",
                        "from-env",
                        "CHAINMERGE_RATE",
                        "1G",
                        "CHAINMERGE_KAFKA_SECURITY_PROTOCOL",
                        "SASL_SSL"),
                Config.parseFlags(List.of("pool=from-flag")));
        assertThat(config.string(POOL)).isEqualTo("from-flag");
        assertThat(config.size(RATE)).isEqualTo(1L << 30);
        assertThat(config.duration(GRACE)).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.list(VOLUMES)).containsExactly("/srv/a", "/srv/b");
        assertThat(config.passthrough())
                .containsEntry("bootstrap.servers", "file:9092")
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.jaas.config", "secret-from-file");
        assertThat(config.toString()).doesNotContain("secret-from-file").contains("kafka.sasl.jaas.config = ******");
    }

    @Test
    void aMissingRequiredKeyOrAnUnknownKeyIsAnErrorThatNamesIt() {
        assertThatThrownBy(() -> Config.resolve(DEF, Map.of("volumes", List.of("/srv")), Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("pool is required")
                .hasMessageContaining("CHAINMERGE_POOL");
        assertThatThrownBy(() -> Config.resolve(
                        DEF, Map.of("pool", "p", "volumes", "/srv", "pools", "typo"), Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("pools is not a worker setting");
        assertThatThrownBy(() ->
                        Config.resolve(DEF, Map.of("pool", "p", "volumes", "/srv", "rate", "fast"), Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("rate is not a valid size");
    }

    @Test
    void aChainmergeVariableThatNamesNoKeyIsAnErrorOthersAreNotRead() {
        Map<String, String> base = Map.of("CHAINMERGE_POOL", "p", "CHAINMERGE_VOLUMES", "/srv", "PATH", "/usr/bin");
        assertThat(Config.resolve(DEF, Map.of(), base, Map.of()).string(POOL)).isEqualTo("p");

        Map<String, String> misspelt = new java.util.HashMap<>(base);
        misspelt.put("CHAINMERGE_SHUTDOWN_GRCAE", "5s");
        assertThatThrownBy(() -> Config.resolve(DEF, Map.of(), misspelt, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("CHAINMERGE_SHUTDOWN_GRCAE is not a worker setting (from the environment)")
                .hasMessageContaining("CHAINMERGE_SHUTDOWN_GRACE");
    }
}
