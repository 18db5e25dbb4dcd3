package io.chainmerge.disk;

import java.util.UUID;

/**
 * What a new root disk looks like. Zero for {@code blockSize} means the format's default.
 *
 * @param virtualDiskId the id the disk presents to a VM; null for a new random one
 */
public record DiskSpec(
        DiskType type,
        long virtualSize,
        int blockSize,
        int logicalSectorSize,
        int physicalSectorSize,
        UUID virtualDiskId) {

    public DiskSpec {
        if (type == DiskType.DIFFERENCING) {
            throw new IllegalArgumentException("a differencing disk is created from its parent, not from a spec");
        }
        if (virtualSize <= 0) {
            throw new IllegalArgumentException("virtual size must be positive: " + virtualSize);
        }
        if (logicalSectorSize != 512 && logicalSectorSize != 4096) {
            throw new IllegalArgumentException("logical sector size must be 512 or 4096: " + logicalSectorSize);
        }
        if (physicalSectorSize != 512 && physicalSectorSize != 4096) {
            throw new IllegalArgumentException("physical sector size must be 512 or 4096: " + physicalSectorSize);
        }
    }

    public static DiskSpec dynamic(long virtualSize) {
        return new DiskSpec(DiskType.DYNAMIC, virtualSize, 0, 512, 4096, null);
    }

    public DiskSpec withType(DiskType newType) {
        return new DiskSpec(newType, virtualSize, blockSize, logicalSectorSize, physicalSectorSize, virtualDiskId);
    }

    public DiskSpec withBlockSize(int newBlockSize) {
        return new DiskSpec(type, virtualSize, newBlockSize, logicalSectorSize, physicalSectorSize, virtualDiskId);
    }

    public DiskSpec withLogicalSectorSize(int newLogicalSectorSize) {
        return new DiskSpec(type, virtualSize, blockSize, newLogicalSectorSize, physicalSectorSize, virtualDiskId);
    }

    public DiskSpec withVirtualDiskId(UUID newVirtualDiskId) {
        return new DiskSpec(type, virtualSize, blockSize, logicalSectorSize, physicalSectorSize, newVirtualDiskId);
    }
}
