package io.chainmerge.common;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The messages, topics and configuration both daemons share depend on neither daemon, nor on the
 * runtime they run on: a worker and a coordinator agree through {@code common}, not through each
 * other. A rule that selects no class fails (ArchUnit's default), so none of these can pass vacuously.
 */
@AnalyzeClasses(packages = "io.chainmerge.common", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule commonDependsOnNeitherDaemon = noClasses()
            .that()
            .resideInAPackage("io.chainmerge.common..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("io.chainmerge.worker..", "io.chainmerge.coordinator..")
            .because("both daemons build on common; a dependency back would tie one daemon to the other");

    @ArchTest
    static final ArchRule commonDoesNotUseVertx = noClasses()
            .that()
            .resideInAPackage("io.chainmerge.common..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.vertx..")
            .because("the records and codecs are plain data, usable without the daemons' runtime");
}
