package io.chainmerge.worker;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** Kafka and Vert.x stay at the edges: the engine knows neither, and neither does the message model. */
class LayersTest {
    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.chainmerge.disk", "io.chainmerge.common", "io.chainmerge.worker");

    @Test
    void theDiskEngineUsesNeitherKafkaNorVertxNorTheDaemons() {
        noClasses()
                .that()
                .resideInAPackage("io.chainmerge.disk..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "org.apache.kafka..",
                        "io.vertx..",
                        "io.chainmerge.common..",
                        "io.chainmerge.worker..",
                        "io.chainmerge.coordinator..")
                .check(classes);
    }

    @Test
    void theMessagesAndConfigurationKnowNoDaemonAndNoEngine() {
        noClasses()
                .that()
                .resideInAPackage("io.chainmerge.common..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "io.vertx..", "io.chainmerge.disk..", "io.chainmerge.worker..", "io.chainmerge.coordinator..")
                .check(classes);
    }
}
