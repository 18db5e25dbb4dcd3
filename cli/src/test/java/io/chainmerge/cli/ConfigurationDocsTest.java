package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.coordinator.CoordinatorConfig;
import io.chainmerge.worker.WorkerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The settings tables in docs/configuration.md are the ones the declarations generate: no key undocumented,
 * none stale. The README only links there, so it cannot go stale either.
 */
class ConfigurationDocsTest {
    @Test
    void theConfigurationDocListsEveryWorkerAndCoordinatorSettingAsDeclared() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "configuration.md"));
        assertThat(doc).contains(WorkerConfig.DEF.markdown()).contains(CoordinatorConfig.DEF.markdown());
    }

    @Test
    void theReadmeLinksToTheConfigurationDoc() throws Exception {
        assertThat(Files.readString(Path.of("..", "README.md"))).contains("](docs/configuration.md)");
    }
}
