package io.chainmerge.disk;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import io.chainmerge.disk.testing.FileOpenings;

/**
 * The disk engine is plain Java that any JVM host can embed (docs/architecture.md, "Modules"), and
 * inside it each format stands alone while merging, scanning and chains work on {@link VirtualDisk}
 * only. A rule that selects no class fails (ArchUnit's default), so none of these can pass vacuously.
 */
@AnalyzeClasses(packages = "io.chainmerge.disk", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule diskUsesNoMessagingWebJsonOrCommandLineLibrary = noClasses()
            .that()
            .resideInAPackage("io.chainmerge.disk..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "org.apache.kafka..", "io.vertx..", "io.netty..", "com.fasterxml.jackson..", "picocli..")
            .because("the engine runs in the worker, the CLI and tests alike, with nothing heavy under it");

    @ArchTest
    static final ArchRule diskUsesNoOtherChainmergeModule = noClasses()
            .that()
            .resideInAPackage("io.chainmerge.disk..")
            .should()
            .dependOnClassesThat(
                    resideInAPackage("io.chainmerge..").and(resideOutsideOfPackage("io.chainmerge.disk..")))
            .because("common, worker, coordinator and cli build on disk, never the other way round");

    @ArchTest
    static final ArchRule vhdxDoesNotUseVhd = noClasses()
            .that()
            .resideInAPackage("io.chainmerge.disk.vhdx..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.chainmerge.disk.vhd..")
            .because("each format is one package, read next to its own specification");

    @ArchTest
    static final ArchRule vhdDoesNotUseVhdx = noClasses()
            .that()
            .resideInAPackage("io.chainmerge.disk.vhd..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.chainmerge.disk.vhdx..")
            .because("each format is one package, read next to its own specification");

    @ArchTest
    static final ArchRule formatsDoNotUseMergeScanOrChains = noClasses()
            .that()
            .resideInAnyPackage("io.chainmerge.disk.vhdx..", "io.chainmerge.disk.vhd..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("io.chainmerge.disk.merge..", "io.chainmerge.disk.scan..", "io.chainmerge.disk.chain..")
            .because("a format engine reads and writes one file; what is done with chains of them is above it");

    @ArchTest
    static final ArchRule mergeScanAndChainsKnowNoFormat = noClasses()
            .that()
            .resideInAnyPackage("io.chainmerge.disk.merge..", "io.chainmerge.disk.scan..", "io.chainmerge.disk.chain..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("io.chainmerge.disk.vhdx..", "io.chainmerge.disk.vhd..")
            .because("the merge engine is format-neutral: it works on the VirtualDisk abstraction");

    /**
     * The abstraction and its vocabulary ({@link VirtualDisk}, {@link DiskFormat}, extents, links) sit
     * under both engines, which build on them: were {@code io.chainmerge.disk} to name an engine, the
     * packages would form a cycle. Opening and creating by format is {@code disk.engines}' job.
     */
    @ArchTest
    static final ArchRule theAbstractionKnowsNoEngine = noClasses()
            .that()
            .resideInAPackage("io.chainmerge.disk")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("io.chainmerge.disk.vhdx..", "io.chainmerge.disk.vhd..", "io.chainmerge.disk.engines..")
            .because("VirtualDisk depends on neither format engine; DiskFiles picks one, above both");

    /**
     * The other files the engine opens are not disks: the merge and transplant journals, folders (to
     * flush them), the kernel's lock, mount and process lists and its NFS server's client state, the
     * host's name and boot, the claims beside disks that other hosts see, the mount table and the
     * block devices' I/O counters.
     */
    @ArchTest
    static final ArchRule onlyTheTableOfOpenFilesOpensADiskFile = noClasses()
            .that()
            .resideInAPackage("io.chainmerge.disk..")
            .and(DescribedPredicate.not(FileOpenings.oneOf(
                    "io.chainmerge.disk.io.OpenFileTable",
                    "io.chainmerge.disk.merge.MergeJournal",
                    "io.chainmerge.disk.transplant.FileJournal",
                    "io.chainmerge.disk.io.Directories",
                    "io.chainmerge.disk.io.LockHolders",
                    "io.chainmerge.disk.io.Processes",
                    "io.chainmerge.disk.io.HostIdentity",
                    "io.chainmerge.disk.io.ClaimFile",
                    "io.chainmerge.disk.inuse.NfsServerProbe",
                    "io.chainmerge.disk.pace.BlockDevice",
                    "io.chainmerge.disk.Volume")))
            .should()
            .accessTargetWhere(FileOpenings.opensAFile())
            .because("a second descriptor of a locked disk file, closed, drops every lock the process holds on it");
}
