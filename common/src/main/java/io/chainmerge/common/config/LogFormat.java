package io.chainmerge.common.config;

import java.util.Locale;

/**
 * How a daemon writes its log: {@code text} for a person at a terminal, {@code json} (one object per line)
 * for a log collector. Both daemons declare {@link #KEY}; the launcher applies it before the daemon starts.
 */
public enum LogFormat {
    TEXT,
    JSON;

    public static final ConfigKey KEY = ConfigKey.optional(
            "log.format",
            ConfigType.STRING,
            "text",
            "text: one line per event with an ISO-8601 time and the campaign, job, pool and worker it concerns; json: one JSON object per line with the same in its mdc field, for a log collector (docs/observability.md)");

    public static LogFormat parse(String text) {
        try {
            return valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(KEY.name(), "must be text or json, not " + text);
        }
    }

    public static LogFormat from(Config config) {
        return parse(config.string(KEY));
    }
}
