package io.chainmerge.common.config;

import java.util.Locale;

/**
 * One configuration key, declared once: its name, type, default (null when it must be given), and
 * what it means. The documentation lists every key from these declarations.
 *
 * @param secret its value is never printed
 */
public record ConfigKey(String name, ConfigType type, Object defaultValue, String doc, boolean secret) {

    public static ConfigKey required(String name, ConfigType type, String doc) {
        return new ConfigKey(name, type, null, doc, false);
    }

    public static ConfigKey optional(String name, ConfigType type, Object defaultValue, String doc) {
        return new ConfigKey(name, type, defaultValue, doc, false);
    }

    /** The environment variable that sets this key: {@code CHAINMERGE_} and the name in capitals, dots and dashes as underscores. */
    public String environmentVariable() {
        return environmentVariable(name);
    }

    static String environmentVariable(String key) {
        return Config.ENV_PREFIX
                + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }
}
