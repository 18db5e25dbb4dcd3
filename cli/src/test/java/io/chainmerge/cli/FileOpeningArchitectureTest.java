package io.chainmerge.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import io.chainmerge.disk.testing.FileOpenings;

/**
 * Outside the engine too, only the engine's table of open files opens a disk file: the worker runs
 * merges, scans and transfers side by side in one process, and a second descriptor of a disk file,
 * closed, would drop the locks a merge holds on it (disk's ArchitectureTest keeps the engine itself so).
 */
@AnalyzeClasses(
        packages = {"io.chainmerge.worker", "io.chainmerge.coordinator", "io.chainmerge.common", "io.chainmerge.cli"},
        importOptions = ImportOption.DoNotIncludeTests.class)
class FileOpeningArchitectureTest {

    @ArchTest
    static final ArchRule diskFilesAreOpenedOnlyByTheEngine = noClasses()
            .that(DescribedPredicate.not(FileOpenings.oneOf(
                    "io.chainmerge.worker.JobJournal", // the worker's job journal
                    "io.chainmerge.worker.VolumeIdentity", // the volume's id file
                    "io.chainmerge.common.config.Config", // configuration files
                    "io.chainmerge.cli.CampaignCommand", // campaign spec files
                    "io.chainmerge.cli.ExportCommand", // the raw image it creates
                    "io.chainmerge.cli.WriteCommand", // the data to write
                    "io.chainmerge.coordinator.Principals", // the principals file
                    "io.chainmerge.cli.CoordinatorAddress", // --token-file
                    "io.chainmerge.cli.TokenCommand$New", // the token file it makes
                    "io.chainmerge.cli.FleetDemo", // the demo's token
                    "io.chainmerge.common.security.PemFiles", // certificates and keys
                    "io.chainmerge.common.security.ThrowawayPki", // the demo's and the tests' throwaway CA
                    "io.chainmerge.cli.ClientCertificate", // --cert, --key
                    "io.chainmerge.cli.KafkaCommand$Acls" // --kafka-config
                    )))
            .should()
            .accessTargetWhere(FileOpenings.opensAFile())
            .because("a second descriptor of a locked disk file, closed, drops every lock the process holds on it");
}
