package io.chainmerge.disk.vhdx;

/**
 * A 64-bit BAT entry (MS-VHDX 2.5.1): State in bits 0-2, FileOffsetMB in bits 20-63. Entries are
 * plain longs, kept small because a BAT can hold millions of them.
 *
 * <p>What the engine decides about the fields the specification reserves, the same for every command
 * that reads (through {@code verify}, which a merge, {@code export} and {@code inspect --verify} all run):
 *
 * <ul>
 *   <li>Bits 3-19 (2.5.1, "reserved"): refused as corrupt when set. No writer the engine knows sets them,
 *       and a reader cannot know what a writer that did meant.
 *   <li>States 4 and 5 (payload) and 1-5, 7 (sector bitmap) (2.5.1.1, 2.5.1.2, "reserved"): refused.
 *   <li>FileOffsetMB of a NOT_PRESENT, UNDEFINED, ZERO or UNMAPPED payload entry and of a NOT_PRESENT
 *       sector bitmap entry (2.5.1.1, 2.5.1.2: "reserved", or for UNDEFINED and UNMAPPED a leftover the
 *       writer may keep): accepted and ignored; the block reads as its state says (the parent, or zeros)
 *       and never from that offset. libvhdi reads some of these blocks from the offset instead
 *       (docs/formats.md).
 * </ul>
 */
final class BatEntry {
    // Payload block states (2.5.1.1).
    static final int PAYLOAD_NOT_PRESENT = 0;
    static final int PAYLOAD_UNDEFINED = 1;
    static final int PAYLOAD_ZERO = 2;
    static final int PAYLOAD_UNMAPPED = 3;
    static final int PAYLOAD_FULLY_PRESENT = 6;
    static final int PAYLOAD_PARTIALLY_PRESENT = 7;
    // Sector bitmap block states (2.5.1.2).
    static final int BITMAP_NOT_PRESENT = 0;
    static final int BITMAP_PRESENT = 6;

    private static final long RESERVED_MASK = ((1L << 20) - 1) & ~7L;

    private BatEntry() {}

    static int state(long entry) {
        return (int) (entry & 7);
    }

    static long fileOffset(long entry) {
        return (entry >>> 20) * Layout.MIB;
    }

    /**
     * FileOffsetMB as stored: 44 bits, so in bytes it can exceed what a long holds. Range checks work
     * in these units, and {@link #fileOffset} is used only once the block is known to be in the file.
     */
    static long fileOffsetMb(long entry) {
        return entry >>> 20;
    }

    static long reservedBits(long entry) {
        return entry & RESERVED_MASK;
    }

    static long of(int state, long fileOffset) {
        return ((fileOffset / Layout.MIB) << 20) | state;
    }

    static boolean isAllocated(int payloadState) {
        return payloadState == PAYLOAD_FULLY_PRESENT || payloadState == PAYLOAD_PARTIALLY_PRESENT;
    }

    /** States that define the block as zeros in every file type (the spec allows zeros for each). */
    static boolean readsAsZeros(int payloadState) {
        return payloadState == PAYLOAD_ZERO || payloadState == PAYLOAD_UNMAPPED || payloadState == PAYLOAD_UNDEFINED;
    }

    static String payloadStateName(int state) {
        return switch (state) {
            case PAYLOAD_NOT_PRESENT -> "NOT_PRESENT";
            case PAYLOAD_UNDEFINED -> "UNDEFINED";
            case PAYLOAD_ZERO -> "ZERO";
            case PAYLOAD_UNMAPPED -> "UNMAPPED";
            case PAYLOAD_FULLY_PRESENT -> "FULLY_PRESENT";
            case PAYLOAD_PARTIALLY_PRESENT -> "PARTIALLY_PRESENT";
            default -> "reserved state " + state;
        };
    }
}
