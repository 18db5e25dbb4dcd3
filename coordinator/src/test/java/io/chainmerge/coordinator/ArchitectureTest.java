package io.chainmerge.coordinator;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The coordinator plans from inventories; it never opens a disk, so it never reaches into the engine. */
class ArchitectureTest {
    @Test
    void theCoordinatorNeverUsesTheDiskEngineAndCommonNeverUsesADaemon() {
        var classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.chainmerge.coordinator", "io.chainmerge.common");
        noClasses()
                .that()
                .resideInAPackage("io.chainmerge.coordinator..")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("io.chainmerge.disk..")
                .check(classes);
        noClasses()
                .that()
                .resideInAPackage("io.chainmerge.common..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("io.chainmerge.worker..", "io.chainmerge.coordinator..", "io.vertx..")
                .check(classes);
    }
}
