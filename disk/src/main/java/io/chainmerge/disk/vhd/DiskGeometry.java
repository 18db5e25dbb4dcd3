package io.chainmerge.disk.vhd;

/**
 * The footer's Disk Geometry: the cylinders, heads and sectors per track an ATA controller presents
 * (VHD spec, appendix "CHS Calculation"). It rounds the size down, often below the footer's Current
 * Size: chainmerge takes a disk's size from Current Size, as Hyper-V does, and computes a geometry only
 * for a new root. A child copies its parent's.
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

    /** The field as stored: u16 cylinders, u8 heads, u8 sectors per track. */
    static DiskGeometry decode(long field) {
        return new DiskGeometry((int) (field >>> 16) & 0xffff, (int) (field >>> 8) & 0xff, (int) field & 0xff);
    }

    int encode() {
        return (cylinders << 16) | (heads << 8) | sectorsPerTrack;
    }

    /** The bytes this geometry addresses. */
    long bytes() {
        return (long) cylinders * heads * sectorsPerTrack * VhdFile.SECTOR_SIZE;
    }

    @Override
    public String toString() {
        return cylinders + "/" + heads + "/" + sectorsPerTrack;
    }
}
