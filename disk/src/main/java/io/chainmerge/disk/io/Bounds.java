package io.chainmerge.disk.io;

/**
 * Range arithmetic on offsets and lengths read from a file, which must never overflow: a u64 offset
 * just below 2^63 plus any length wraps to a negative end that every "ends past the file" test
 * would wave through. Each method answers without computing {@code offset + length} unless it
 * fits.
 */
public final class Bounds {
    private Bounds() {}

    /** Whether {@code [offset, offset + length)} lies inside {@code [0, limit)}. */
    public static boolean fits(long offset, long length, long limit) {
        return offset >= 0 && length >= 0 && length <= limit && offset <= limit - length;
    }

    /** Whether two ranges that each {@link #fits fit} a file share a byte. */
    public static boolean overlap(long offset, long length, long otherOffset, long otherLength) {
        return offset < otherOffset + otherLength && otherOffset < offset + length;
    }

    /** {@code offset + length}, or {@link Long#MAX_VALUE} where that is beyond what a long holds. */
    public static long end(long offset, long length) {
        long end = offset + length;
        return offset >= 0 && length >= 0 && end < 0 ? Long.MAX_VALUE : end;
    }
}
