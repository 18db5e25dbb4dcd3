package io.chainmerge.disk.vhd;

/**
 * The footer's Disk Geometry: the cylinders, heads and sectors per track an ATA controller presents
 * (VHD spec, appendix "CHS Calculation"). It rounds the size down, often below the footer's Current
 * Size: chainmerge takes a disk's size from Current Size, as Hyper-V does, and computes a geometry only
 * for a new root, one that addresses exactly its size (see {@link #forExactSize}). A child copies its
 * parent's.
 */
record DiskGeometry(int cylinders, int heads, int sectorsPerTrack) {
    private static final long MAX_SECTORS = 65535L * 16 * 255;

    /** The geometry the specification's algorithm gives a disk of {@code bytes}. */
    static DiskGeometry forSize(long bytes) {
        long sectors = Math.min(bytes / VhdFile.SECTOR_SIZE, MAX_SECTORS);
        int perTrack;
        int heads;
        long cylindersTimesHeads;
        if (sectors >= 65535L * 16 * 63) {
            perTrack = 255;
            heads = 16;
            cylindersTimesHeads = sectors / perTrack;
        } else {
            perTrack = 17;
            cylindersTimesHeads = sectors / perTrack;
            heads = (int) Math.max(4, (cylindersTimesHeads + 1023) / 1024);
            if (cylindersTimesHeads >= heads * 1024L || heads > 16) {
                perTrack = 31;
                heads = 16;
                cylindersTimesHeads = sectors / perTrack;
            }
            if (cylindersTimesHeads >= heads * 1024L) {
                perTrack = 63;
                heads = 16;
                cylindersTimesHeads = sectors / perTrack;
            }
        }
        return new DiskGeometry((int) (cylindersTimesHeads / heads), heads, perTrack);
    }

    /** 65535 cylinders, 16 heads, 255 sectors per track: the most the field holds. */
    static final DiskGeometry MAXIMUM = new DiskGeometry(65535, 16, 255);

    /**
     * The geometry to record for a disk of exactly {@code bytes}: the specification's when it addresses
     * exactly that many bytes, else {@link #MAXIMUM}. Readers that size a VHD by its geometry (qemu for
     * creators it does not know, Virtual PC) take Current Size when the geometry is the maximum, so every
     * reader then sees {@code bytes}; the specification's geometry would show them less.
     */
    static DiskGeometry forExactSize(long bytes) {
        DiskGeometry geometry = forSize(bytes);
        return geometry.bytes() == bytes ? geometry : MAXIMUM;
    }

    /**
     * The smallest size at or above {@code bytes} (a multiple of 512) that the specification's geometry for
     * it addresses exactly, or whose geometry is the maximum: a size every reader agrees on, whether it
     * takes Current Size or the geometry. {@code qemu-img create -f vpc} rounds up the same way.
     */
    static long smallestAgreedSizeAtLeast(long bytes) {
        long sectors = (bytes + VhdFile.SECTOR_SIZE - 1) / VhdFile.SECTOR_SIZE;
        while (true) {
            DiskGeometry geometry = forSize(sectors * VhdFile.SECTOR_SIZE);
            if (geometry.equals(MAXIMUM) || geometry.sectors() == sectors) {
                return sectors * VhdFile.SECTOR_SIZE;
            }
            long track = (long) geometry.heads * geometry.sectorsPerTrack;
            long rounded = (sectors + track - 1) / track * track;
            // A larger size can take other heads and sectors per track; step on until one fits exactly.
            sectors = rounded == sectors ? sectors + 1 : rounded;
        }
    }

    long sectors() {
        return (long) cylinders * heads * sectorsPerTrack;
    }

    /** The field as stored: u16 cylinders, u8 heads, u8 sectors per track. */
    static DiskGeometry decode(long field) {
        return new DiskGeometry((int) (field >>> 16) & 0xffff, (int) (field >>> 8) & 0xff, (int) field & 0xff);
    }

    int encode() {
        return (cylinders << 16) | (heads << 8) | sectorsPerTrack;
    }

    /** The bytes this geometry addresses. */
    long bytes() {
        return sectors() * VhdFile.SECTOR_SIZE;
    }

    @Override
    public String toString() {
        return cylinders + "/" + heads + "/" + sectorsPerTrack;
    }
}
