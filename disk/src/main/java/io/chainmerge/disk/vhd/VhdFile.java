package io.chainmerge.disk.vhd;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.UnsupportedDiskException;
import io.chainmerge.disk.VirtualDisk;
import java.io.IOException;
import java.nio.file.Path;

/** A legacy VHD file. The format engine lands with the VHD work; until then VHD files are refused clearly. */
public abstract class VhdFile implements VirtualDisk {
    public static VirtualDisk open(Path file, Access access) throws IOException {
        throw new UnsupportedDiskException(file, "VHD files are not supported yet");
    }

    public static VirtualDisk create(Path file, DiskSpec spec) throws IOException {
        throw new UnsupportedDiskException(file, "VHD files are not supported yet");
    }

    public static long sizeOfNew(DiskSpec spec, long allocatedBlocks) {
        throw new UnsupportedOperationException("VHD files are not supported yet");
    }

    public static VirtualDisk createDifferencing(Path file, VhdFile parent) throws IOException {
        throw new UnsupportedDiskException(file, "VHD files are not supported yet");
    }
}
