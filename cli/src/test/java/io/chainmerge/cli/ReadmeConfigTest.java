package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.coordinator.CoordinatorConfig;
import io.chainmerge.worker.WorkerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's settings tables are the ones the declarations generate: no key undocumented, none stale. */
class ReadmeConfigTest {
    @Test
    void theReadmeListsEveryWorkerAndCoordinatorSettingAsDeclared() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        assertThat(readme).contains(WorkerConfig.DEF.markdown()).contains(CoordinatorConfig.DEF.markdown());
    }
}
