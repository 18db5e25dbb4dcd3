package io.chainmerge.disk.vhdx;

/** Sizes and offsets fixed by MS-VHDX 2.1 and 2.2, and the layout chainmerge gives new files. */
final class Layout {
    static final long KIB = 1024;
    static final long MIB = 1024 * KIB;
    static final long HEADER_SECTION_SIZE = MIB;
    static final int LOG_SECTOR = 4096;

    /** New files: log, metadata region and BAT in that order after the header section, as Hyper-V places them. */
    static final long NEW_LOG_OFFSET = MIB;

    static final long NEW_LOG_LENGTH = MIB;
    static final long NEW_METADATA_OFFSET = 2 * MIB;
    static final long NEW_METADATA_LENGTH = MIB;
    static final long NEW_BAT_OFFSET = 3 * MIB;

    static final long MAX_VIRTUAL_SIZE = 64L * 1024 * 1024 * MIB; // 64 TiB
    static final int MIN_BLOCK_SIZE = (int) MIB;
    static final int MAX_BLOCK_SIZE = (int) (256 * MIB);
    /** Hyper-V's default for dynamic disks; 2 MiB for differencing disks comes from the parent. */
    static final int DEFAULT_BLOCK_SIZE = (int) (32 * MIB);

    static final int DEFAULT_FIXED_BLOCK_SIZE = (int) (2 * MIB);

    private Layout() {}

    static long roundUpToMib(long value) {
        return (value + MIB - 1) / MIB * MIB;
    }
}
