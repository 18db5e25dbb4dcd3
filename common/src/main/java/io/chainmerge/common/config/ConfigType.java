package io.chainmerge.common.config;

import io.chainmerge.common.DataSize;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** The types a configuration value can have, each with its one parser. */
public enum ConfigType {
    STRING,
    INT,
    BOOLEAN,
    /** A list of strings: a YAML list, or comma-separated text from the environment or a flag. */
    LIST,
    /** A size such as {@code 512}, {@code 64K}, {@code 10GiB} (binary units). */
    SIZE,
    /** {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 7d}, or ISO-8601 ({@code PT30S}). */
    DURATION;

    Object parse(String key, Object raw) {
        try {
            return switch (this) {
                case STRING -> raw.toString();
                case INT ->
                    raw instanceof Number n
                            ? n.intValue()
                            : Integer.parseInt(raw.toString().strip());
                case BOOLEAN -> parseBoolean(raw.toString());
                case LIST ->
                    raw instanceof List<?> list
                            ? list.stream().map(Object::toString).toList()
                            : Arrays.stream(raw.toString().split(","))
                                    .map(String::strip)
                                    .filter(s -> !s.isEmpty())
                                    .toList();
                case SIZE -> raw instanceof Number n ? n.longValue() : DataSize.parse(raw.toString());
                case DURATION -> parseDuration(raw.toString());
            };
        } catch (RuntimeException e) {
            throw new ConfigException(
                    key,
                    "is not a valid " + name().toLowerCase(Locale.ROOT) + ": \"" + raw + "\" (" + e.getMessage() + ")");
        }
    }

    private static boolean parseBoolean(String text) {
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw new IllegalArgumentException("expected true or false");
        };
    }

    /** {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 7d}, or ISO-8601. */
    public static Duration parseDuration(String text) {
        String value = text.strip().toLowerCase(Locale.ROOT);
        if (value.startsWith("p")) {
            return Duration.parse(value.toUpperCase(Locale.ROOT));
        }
        int split = 0;
        while (split < value.length() && (Character.isDigit(value.charAt(split)) || value.charAt(split) == '.')) {
            split++;
        }
        if (split == 0) {
            throw new IllegalArgumentException("expected a number and a unit, e.g. 30s");
        }
        double number = Double.parseDouble(value.substring(0, split));
        long millis =
                switch (value.substring(split).strip()) {
                    case "ms" -> Math.round(number);
                    case "s", "" -> Math.round(number * 1000);
                    case "m", "min" -> Math.round(number * 60_000);
                    case "h" -> Math.round(number * 3_600_000);
                    case "d" -> Math.round(number * 86_400_000);
                    default -> throw new IllegalArgumentException("units are ms, s, m, h, d");
                };
        return Duration.ofMillis(millis);
    }
}
