package io.chainmerge.disk;

import java.util.Locale;

/** Sizes as people write them: {@code 512}, {@code 64K}, {@code 10GiB}, {@code 1.5T}; binary units. */
public final class ByteSize {
    private ByteSize() {}

    public static long parse(String text) {
        String value = text.strip().toUpperCase(Locale.ROOT).replace(" ", "");
        if (value.endsWith("IB")) {
            value = value.substring(0, value.length() - 2);
        } else if (value.endsWith("B")) {
            value = value.substring(0, value.length() - 1);
        }
        long unit = 1;
        if (!value.isEmpty()) {
            switch (value.charAt(value.length() - 1)) {
                case 'K' -> unit = 1L << 10;
                case 'M' -> unit = 1L << 20;
                case 'G' -> unit = 1L << 30;
                case 'T' -> unit = 1L << 40;
                case 'P' -> unit = 1L << 50;
                default -> unit = 1;
            }
            if (unit != 1) {
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
            throw new IllegalArgumentException("not a size: \"" + text + "\" (examples: 512, 64K, 10GiB, 1.5T)");
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
