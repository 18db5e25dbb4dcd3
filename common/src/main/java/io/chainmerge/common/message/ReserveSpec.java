package io.chainmerge.common.message;

/**
 * Space a merge must leave free on the destination's volume: the smaller of {@code bytes} and
 * {@code fraction} of the volume (the engine's reserve, as numbers).
 */
public record ReserveSpec(long bytes, double fraction) {
    public ReserveSpec {
        if (bytes < 0 || fraction < 0 || fraction > 1) {
            throw new IllegalArgumentException(
                    "a reserve is a non-negative number of bytes and a fraction from 0 to 1");
        }
    }

    /** {@code 2GiB}, {@code 500M}, {@code 0}, or {@code 10%} (of the volume). */
    public static ReserveSpec parse(String text) {
        String value = text.strip();
        if (value.endsWith("%")) {
            double percent =
                    Double.parseDouble(value.substring(0, value.length() - 1).strip());
            return new ReserveSpec(Long.MAX_VALUE, percent / 100);
        }
        return new ReserveSpec(io.chainmerge.common.DataSize.parse(value), 1);
    }
}
