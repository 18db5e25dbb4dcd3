package io.chainmerge.disk.merge;

import io.chainmerge.disk.ByteSize;

/**
 * Space a merge must leave free on the destination's volume: the smaller of a fixed number of bytes
 * and a fraction of the volume. The default is 1 GiB or 5 %, whichever is smaller.
 */
public record Reserve(long bytes, double fraction) {
    public static final Reserve DEFAULT = new Reserve(1L << 30, 0.05);
    public static final Reserve NONE = new Reserve(0, 0);

    public Reserve {
        if (bytes < 0 || fraction < 0 || fraction > 1) {
            throw new IllegalArgumentException("a reserve is a non-negative size or a fraction from 0 to 1");
        }
    }

    /** {@code 2GiB}, {@code 500M}, {@code 0} (bytes), or {@code 10%} (of the volume). */
    public static Reserve parse(String text) {
        String value = text.strip();
        if (value.endsWith("%")) {
            double percent =
                    Double.parseDouble(value.substring(0, value.length() - 1).strip());
            return new Reserve(Long.MAX_VALUE, percent / 100);
        }
        return new Reserve(ByteSize.parse(value), 1);
    }

    /** The reserve on a volume of {@code totalBytes}. */
    public long bytesOn(long totalBytes) {
        return Math.min(bytes, (long) (fraction * totalBytes));
    }

    @Override
    public String toString() {
        if (bytes == Long.MAX_VALUE) {
            return fraction * 100 + "%";
        }
        if (fraction >= 1) {
            return ByteSize.format(bytes);
        }
        return ByteSize.format(bytes) + " or " + fraction * 100 + "%, whichever is smaller";
    }
}
