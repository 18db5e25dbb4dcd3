package io.chainmerge.common.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The keys a component understands, plus an optional prefix (such as {@code kafka.}) whose keys pass
 * through untouched to a library.
 */
public final class ConfigDef {
    private final String component;
    private final Map<String, ConfigKey> keys = new LinkedHashMap<>();
    private final String passthroughPrefix;

    public ConfigDef(String component, String passthroughPrefix, List<ConfigKey> keys) {
        this.component = component;
        this.passthroughPrefix = passthroughPrefix;
        for (ConfigKey key : keys) {
            if (this.keys.put(key.name(), key) != null) {
                throw new IllegalArgumentException("key declared twice: " + key.name());
            }
        }
    }

    public String component() {
        return component;
    }

    public Map<String, ConfigKey> keys() {
        return keys;
    }

    public String passthroughPrefix() {
        return passthroughPrefix;
    }

    /** A Markdown table of every key, for docs/configuration.md (ConfigurationDocsTest keeps it there). */
    public String markdown() {
        StringBuilder table =
                new StringBuilder("| key | environment | type | default | meaning |\n|---|---|---|---|---|\n");
        for (ConfigKey key : keys.values()) {
            table.append("| `%s` | `%s` | %s | %s | %s |\n"
                    .formatted(
                            key.name(),
                            key.environmentVariable(),
                            key.type().name().toLowerCase(java.util.Locale.ROOT),
                            key.defaultValue() == null
                                    ? "(required)"
                                    : render(key.defaultValue()).isEmpty()
                                            ? "(empty)"
                                            : "`" + render(key.defaultValue()) + "`",
                            key.doc()));
        }
        if (passthroughPrefix != null) {
            table.append(
                    "| `%s*` | `%s…` | string | | passed to the Kafka clients as they are (SASL, TLS, timeouts) |\n"
                            .formatted(passthroughPrefix, ConfigKey.environmentVariable(passthroughPrefix)));
        }
        return table.toString();
    }

    private static String render(Object value) {
        if (value instanceof List<?> list) {
            return String.join(",", list.stream().map(Object::toString).toList());
        }
        if (value instanceof java.time.Duration duration) {
            long ms = duration.toMillis();
            if (ms == 0) {
                return "0"; // off, not "0d"
            }
            long[] sizes = {86_400_000L, 3_600_000L, 60_000L, 1000L};
            String[] units = {"d", "h", "m", "s"};
            for (int i = 0; i < sizes.length; i++) {
                if (ms % sizes[i] == 0) {
                    return ms / sizes[i] + units[i];
                }
            }
            return ms + "ms";
        }
        return value.toString();
    }
}
