package io.chainmerge.cli;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.ByteSize;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "create",
        header = "Creates a root disk, or a differencing disk over a parent.",
        mixinStandardHelpOptions = true,
        description = "Creates a disk: a root of the given size, or a differencing disk over a parent (like New-VHD). "
                + "The format follows the file's extension (.vhdx/.avhdx or .vhd/.avhd). The parent is not changed.")
final class CreateCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "the new file; it must not exist")
    Path file;

    @ArgGroup(multiplicity = "1")
    Kind kind;

    static final class Kind {
        @Option(
                names = "--size",
                paramLabel = "SIZE",
                description = "a new root of this virtual size (e.g. 10G, 512M); a VHD's is rounded up to the next size"
                        + " its CHS geometry addresses exactly, so every VHD reader sees the same size")
        String size;

        @Option(names = "--parent", paramLabel = "PARENT", description = "a new differencing disk over PARENT")
        Path parent;
    }

    @Option(
            names = "--type",
            paramLabel = "dynamic|fixed",
            defaultValue = "dynamic",
            description = "for a root: dynamic (grows as written, default) or fixed (fully allocated)")
    String type;

    @Option(
            names = "--block-size",
            paramLabel = "SIZE",
            description = "for a root: the block size (VHDX default 32M, 2M for fixed; VHD default 2M)")
    String blockSize;

    @Option(
            names = "--logical-sector",
            paramLabel = "512|4096",
            defaultValue = "512",
            description = "for a root: the logical sector size (VHD: 512 only)")
    int logicalSector;

    @Option(
            names = "--physical-sector",
            paramLabel = "512|4096",
            defaultValue = "4096",
            description = "for a root: the physical sector size (VHD records none: its disks show 512)")
    int physicalSector;

    @Mixin
    Output output;

    @Override
    public Integer call() throws Exception {
        VirtualDisk created;
        long requested = -1;
        if (kind.parent != null) {
            try (VirtualDisk parent = DiskFiles.open(kind.parent, Access.READ)) {
                created = DiskFiles.createDifferencing(file, parent);
            }
        } else {
            DiskType diskType =
                    switch (type.toLowerCase(Locale.ROOT)) {
                        case "dynamic" -> DiskType.DYNAMIC;
                        case "fixed" -> DiskType.FIXED;
                        default -> throw new IllegalArgumentException("--type is dynamic or fixed, not " + type);
                    };
            int block = blockSize == null ? 0 : (int) ByteSize.parse(blockSize);
            requested = ByteSize.parse(kind.size);
            created = DiskFiles.create(
                    file,
                    new DiskSpec(
                            diskType,
                            DiskFiles.sizeForNewRoot(file, requested),
                            block,
                            logicalSector,
                            physicalSector,
                            null));
        }
        try (VirtualDisk disk = created) {
            if (output.json()) {
                output.printJson(InspectCommand.describe(disk));
            } else {
                output.out()
                        .printf(
                                "created %s: %s %s, %s virtual, %s blocks%n",
                                disk.path(),
                                disk.format(),
                                disk.type().name().toLowerCase(),
                                ByteSize.format(disk.virtualSize()),
                                ByteSize.format(disk.blockSize()));
                if (requested >= 0 && disk.virtualSize() != requested) {
                    output.out()
                            .printf(
                                    "  virtual size %d bytes: rounded up from %d bytes to a size the disk's CHS geometry"
                                            + " addresses, so every VHD reader sees the same size (docs/vhd.md)%n",
                                    disk.virtualSize(), requested);
                }
            }
        }
        return ExitCodes.OK;
    }
}
