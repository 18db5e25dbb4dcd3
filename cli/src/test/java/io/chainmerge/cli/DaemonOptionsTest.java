package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.common.config.Config;
import io.chainmerge.common.config.ConfigException;
import io.chainmerge.common.config.LogFormat;
import io.chainmerge.worker.WorkerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** How {@code worker} and {@code coordinator} resolve their settings: docs/configuration.md's precedence example, as the commands run it. */
class DaemonOptionsTest {
    @TempDir
    Path dir;

    @Test
    void theReadmesPrecedenceExampleHolds() throws Exception {
        Path file = dir.resolve("worker.yaml");
        Files.writeString(file, "pool: pool-a\nvolumes: [/srv/vol1]\nrate: 200MiB\n");
        Map<String, String> env = Map.of("CHAINMERGE_RATE", "100MiB");

        assertThat(options("--config", file.toString(), "--set", "rate=50MiB")
                        .resolve(WorkerConfig.DEF, env)
                        .size(WorkerConfig.RATE))
                .isEqualTo(52428800L);
        assertThat(options("--config", file.toString())
                        .resolve(WorkerConfig.DEF, env)
                        .size(WorkerConfig.RATE))
                .isEqualTo(104857600L);
        assertThat(options("--config", file.toString())
                        .resolve(WorkerConfig.DEF, Map.of())
                        .size(WorkerConfig.RATE))
                .isEqualTo(209715200L);
        assertThat(Files.readString(Path.of("..", "docs", "configuration.md")))
                .contains(
                        "CHAINMERGE_RATE=100MiB chainmerge worker --config worker.yaml --set rate=50MiB --print-config   # rate = 52428800")
                .contains(
                        "CHAINMERGE_RATE=100MiB chainmerge worker --config worker.yaml --print-config                   # rate = 104857600");
    }

    @Test
    void theLaunchersOwnVariablesAreNotSettingsButAMisspeltSettingIsAnError() throws Exception {
        Map<String, String> launcher = Map.of(
                "CHAINMERGE_POOL", "pool-a",
                "CHAINMERGE_VOLUMES", "/srv/vol1",
                "CHAINMERGE_DEBUG", "1",
                "CHAINMERGE_JAVA_OPTS", "-Xmx1g",
                "CHAINMERGE_COORDINATOR", "http://coordinator:8080",
                "CHAINMERGE_TOKEN", "an operator's token, exported for the campaign commands",
                "CHAINMERGE_CACERT", "/etc/chainmerge/ca.pem");
        Config config = options().resolve(WorkerConfig.DEF, launcher);
        assertThat(config.string(WorkerConfig.POOL)).isEqualTo("pool-a");

        Map<String, String> misspelt = new java.util.HashMap<>(launcher);
        misspelt.put("CHAINMERGE_VOLUMS", "/srv/vol2");
        assertThatThrownBy(() -> options().resolve(WorkerConfig.DEF, misspelt))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("CHAINMERGE_VOLUMS is not a worker setting (from the environment)");
    }

    @Test
    void logFormatIsAFlagOfItsOwnThatASetOfTheSettingOverrides() throws Exception {
        Map<String, String> env = Map.of("CHAINMERGE_POOL", "pool-a", "CHAINMERGE_VOLUMES", "/srv/vol1");
        assertThat(options().resolve(WorkerConfig.DEF, env).string(LogFormat.KEY))
                .isEqualTo("text");
        assertThat(options("--log-format", "json")
                        .resolve(WorkerConfig.DEF, env)
                        .string(LogFormat.KEY))
                .isEqualTo("json");
        assertThat(options("--log-format", "json", "--set", "log.format=text")
                        .resolve(WorkerConfig.DEF, env)
                        .string(LogFormat.KEY))
                .isEqualTo("text");
        Config xml = options("--log-format", "xml").resolve(WorkerConfig.DEF, env);
        assertThatThrownBy(() -> LogFormat.from(xml))
                .isInstanceOf(ConfigException.class)
                .hasMessage("log.format must be text or json, not xml");
    }

    private static DaemonOptions options(String... args) {
        DaemonOptions options = new DaemonOptions();
        new CommandLine(options).parseArgs(args);
        return options;
    }
}
