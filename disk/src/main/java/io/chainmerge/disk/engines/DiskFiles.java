package io.chainmerge.disk.engines;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskFormat;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.InvalidChainException;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.vhd.VhdCreator;
import io.chainmerge.disk.vhd.VhdFile;
import io.chainmerge.disk.vhdx.VhdxCreator;
import io.chainmerge.disk.vhdx.VhdxFile;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The one place that knows both format engines: opening and creating a {@link VirtualDisk} of the
 * format a file's signature or name asks for. It lives above {@code disk}, {@code disk.vhd} and {@code
 * disk.vhdx} so that the abstraction depends on neither engine and the packages form no cycle.
 */
public final class DiskFiles {

    private DiskFiles() {}

    /** Opens a file of either format, detected from its signature and then its extension. */
    public static VirtualDisk open(Path file, Access access) throws IOException {
        return switch (DiskFormat.detect(file)) {
            case VHDX -> VhdxFile.open(file, access);
            case VHD -> VhdFile.open(file, access);
        };
    }

    /** Creates a new root disk; the format follows the file's extension. */
    public static VirtualDisk create(Path file, DiskSpec spec) throws IOException {
        return switch (DiskFormat.forNewFile(file)) {
            case VHDX -> VhdxCreator.create(file, spec);
            case VHD -> VhdCreator.create(file, spec);
        };
    }

    /**
     * The virtual size to give a new root when the caller chose {@code requested} freely (a size on the
     * command line): VHD rounds up to a size every reader of the format agrees on (docs/vhd.md, "Size");
     * VHDX takes the size as it is.
     */
    public static long sizeForNewRoot(Path file, long requested) {
        return switch (DiskFormat.forNewFile(file)) {
            case VHDX -> requested;
            case VHD -> VhdCreator.agreedSizeAtLeast(requested);
        };
    }

    /**
     * Creates a differencing disk over {@code parent}, which must be of the same format; the child
     * takes its parent's size, block size, sector sizes and virtual disk id.
     */
    public static VirtualDisk createDifferencing(Path file, VirtualDisk parent) throws IOException {
        DiskFormat format = DiskFormat.forNewFile(file);
        if (format != parent.format()) {
            throw new InvalidChainException(
                    file,
                    "%s: a %s differencing disk cannot have a %s parent (%s)"
                            .formatted(file, format, parent.format(), parent.path()));
        }
        return switch (format) {
            case VHDX -> VhdxCreator.createDifferencing(file, (VhdxFile) parent);
            case VHD -> VhdCreator.createDifferencing(file, (VhdFile) parent);
        };
    }

    /**
     * The size a new root file of {@code spec} has once {@code allocatedBlocks} of its blocks hold data
     * (a fixed disk has all of them from the start).
     */
    public static long sizeOfNewFile(Path file, DiskSpec spec, long allocatedBlocks) {
        return switch (DiskFormat.forNewFile(file)) {
            case VHDX -> VhdxCreator.sizeOfNew(spec, allocatedBlocks);
            case VHD -> VhdCreator.sizeOfNew(spec, allocatedBlocks);
        };
    }
}
