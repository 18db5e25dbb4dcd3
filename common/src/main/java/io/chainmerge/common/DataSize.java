package io.chainmerge.common;

import java.util.Locale;

/**
 * Sizes and rates as operators write them in campaign specs and configuration: {@code 512},
 * {@code 64K}, {@code 10GiB}, {@code 200MiB/s}; binary units. The disk engine has the same reading
 * for its command line ({@code io.chainmerge.disk.ByteSize}); the coordinator must not depend on the
 * engine, so messages carry plain byte counts and this parses the text around them.
 */
public final class DataSize {
    private DataSize() {}

    public static long parse(String text) {
        String value = text.strip().toUpperCase(Locale.ROOT).replace(" ", "");
        if (value.endsWith("/S")) {
            value = value.substring(0, value.length() - 2);
        }
        if (value.endsWith("IB")) {
            value = value.substring(0, value.length() - 2);
        } else if (value.endsWith("B")) {
            value = value.substring(0, value.length() - 1);
        }
        long unit = 1;
        if (!value.isEmpty()) {
            int shift = "KMGTP".indexOf(value.charAt(value.length() - 1));
            if (shift >= 0) {
                unit = 1L << (10 * (shift + 1));
                value = value.substring(0, value.length() - 1);
            }
        }
        try {
            double number = Double.parseDouble(value);
            if (number < 0 || number * unit > Long.MAX_VALUE) {
                throw new IllegalArgumentException("size out of range: " + text);
            }
            return Math.round(number * unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: \"" + text + "\" (examples: 512, 64K, 10GiB, 200MiB/s)");
        }
    }

    public static String format(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, value >= 100 ? "%.0f %s" : "%.1f %s", value, units[unit]);
    }
}
