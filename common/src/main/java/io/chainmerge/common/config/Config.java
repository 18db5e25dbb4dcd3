package io.chainmerge.common.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.common.json.JsonCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A component's configuration, resolved once from its sources in one precedence, highest first:
 *
 * <ol>
 *   <li>flags ({@code --set key=value} on the command line),
 *   <li>environment variables ({@code CHAINMERGE_} + the key in capitals, dots and dashes as
 *       underscores: {@code pool} is {@code CHAINMERGE_POOL}, {@code kafka.sasl.jaas.config} is
 *       {@code CHAINMERGE_KAFKA_SASL_JAAS_CONFIG}),
 *   <li>the configuration file (YAML or JSON; nested maps are joined with dots),
 *   <li>the declared defaults.
 * </ol>
 *
 * Unknown keys are errors (a typo must not silently fall back to a default), except under the
 * passthrough prefix; so is a {@code CHAINMERGE_} variable that names no key (callers remove the
 * launcher's own variables first). Values of secret keys, and passthrough keys that look like credentials, are
 * masked in {@link #toString()}.
 */
public final class Config {
    static final String ENV_PREFIX = "CHAINMERGE_";
    private static final String MASK = "******";

    private final ConfigDef def;
    private final Map<String, Object> values;
    private final Map<String, String> passthrough;

    private Config(ConfigDef def, Map<String, Object> values, Map<String, String> passthrough) {
        this.def = def;
        this.values = values;
        this.passthrough = passthrough;
    }

    /** Resolves {@code def} from its sources; any of them may be empty. */
    public static Config resolve(
            ConfigDef def, Map<String, ?> file, Map<String, String> environment, Map<String, String> flags) {
        Map<String, Object> raw = new LinkedHashMap<>();
        Map<String, String> passthrough = new TreeMap<>();
        merge(def, file, raw, passthrough, "the configuration file");
        merge(def, fromEnvironment(def, environment), raw, passthrough, "the environment");
        merge(def, flags, raw, passthrough, "a flag");
        Map<String, Object> values = new LinkedHashMap<>();
        for (ConfigKey key : def.keys().values()) {
            Object value = raw.containsKey(key.name())
                    ? key.type().parse(key.name(), raw.get(key.name()))
                    : key.defaultValue();
            if (value == null) {
                throw new ConfigException(
                        key.name(),
                        "is required (" + key.doc() + "); set it in the file, as " + key.environmentVariable()
                                + ", or with --set " + key.name() + "=...");
            }
            values.put(key.name(), value);
        }
        return new Config(def, values, passthrough);
    }

    /** Reads a YAML or JSON file into dotted keys. */
    public static Map<String, Object> readFile(Path file) throws IOException {
        JsonNode root = new JsonCodec().yaml().readTree(Files.readString(file));
        Map<String, Object> flat = new LinkedHashMap<>();
        if (root != null && !root.isNull() && !root.isMissingNode()) {
            if (!root.isObject()) {
                throw new ConfigException(file.toString(), "must hold a map of keys to values");
            }
            flatten("", root, flat);
        }
        return flat;
    }

    /** Parses {@code key=value} flags. */
    public static Map<String, String> parseFlags(List<String> settings) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (String setting : settings) {
            int eq = setting.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException(setting, "is not key=value");
            }
            flags.put(setting.substring(0, eq).strip(), setting.substring(eq + 1));
        }
        return flags;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, Object> out) {
        for (Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            String key = prefix + field.getKey();
            JsonNode value = field.getValue();
            if (value.isObject()) {
                flatten(key + ".", value, out);
            } else if (value.isArray()) {
                List<String> items = new ArrayList<>();
                value.forEach(item -> items.add(item.asText()));
                out.put(key, items);
            } else if (!value.isNull()) {
                out.put(key, value.isNumber() ? value.numberValue() : value.asText());
            }
        }
    }

    /**
     * The declared keys' variables and, under the passthrough prefix, any other; every other
     * {@code CHAINMERGE_} variable is an error, as an unknown key in the file is (a misspelt variable in
     * a manifest must not silently leave a default in force).
     */
    private static Map<String, String> fromEnvironment(ConfigDef def, Map<String, String> environment) {
        Map<String, String> found = new LinkedHashMap<>();
        Map<String, String> variables = new TreeMap<>();
        def.keys().values().forEach(key -> variables.put(key.environmentVariable(), key.name()));
        String envPrefix =
                def.passthroughPrefix() == null ? null : ConfigKey.environmentVariable(def.passthroughPrefix());
        new TreeMap<>(environment).forEach((name, value) -> {
            if (!name.startsWith(ENV_PREFIX)) {
                return;
            }
            if (variables.containsKey(name)) {
                found.put(variables.get(name), value);
            } else if (envPrefix != null && name.startsWith(envPrefix) && name.length() > envPrefix.length()) {
                String rest = name.substring(envPrefix.length())
                        .toLowerCase(Locale.ROOT)
                        .replace('_', '.');
                found.put(def.passthroughPrefix() + rest, value);
            } else {
                throw new ConfigException(
                        name,
                        "is not a " + def.component() + " setting (from the environment); the variables are "
                                + variables.keySet()
                                + (envPrefix == null ? "" : " and " + envPrefix + "*"));
            }
        });
        return found;
    }

    private static void merge(
            ConfigDef def,
            Map<String, ?> source,
            Map<String, Object> raw,
            Map<String, String> passthrough,
            String where) {
        source.forEach((name, value) -> {
            if (def.keys().containsKey(name)) {
                raw.put(name, value);
            } else if (def.passthroughPrefix() != null && name.startsWith(def.passthroughPrefix())) {
                passthrough.put(name.substring(def.passthroughPrefix().length()), String.valueOf(value));
            } else {
                throw new ConfigException(
                        name,
                        "is not a " + def.component() + " setting (from " + where
                                + "); the settings are " + def.keys().keySet()
                                + (def.passthroughPrefix() == null ? "" : " and " + def.passthroughPrefix() + "*"));
            }
        });
    }

    public String string(ConfigKey key) {
        return (String) value(key);
    }

    public int integer(ConfigKey key) {
        return (Integer) value(key);
    }

    public boolean bool(ConfigKey key) {
        return (Boolean) value(key);
    }

    public long size(ConfigKey key) {
        return ((Number) value(key)).longValue();
    }

    public Duration duration(ConfigKey key) {
        return (Duration) value(key);
    }

    @SuppressWarnings("unchecked")
    public List<String> list(ConfigKey key) {
        return (List<String>) value(key);
    }

    private Object value(ConfigKey key) {
        if (!def.keys().containsKey(key.name())) {
            throw new IllegalArgumentException(key.name() + " is not a " + def.component() + " setting");
        }
        return values.get(key.name());
    }

    /** The passthrough settings without their prefix, e.g. {@code bootstrap.servers} for {@code kafka.bootstrap.servers}. */
    public Map<String, String> passthrough() {
        return passthrough;
    }

    /** Whether a key's value must never be shown. */
    static boolean looksSecret(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.contains("password")
                || lower.contains("jaas")
                || lower.contains("secret")
                || lower.contains("token")
                || lower.endsWith(".key")
                || lower.contains("credentials");
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder(def.component()).append(" configuration:");
        values.forEach((name, value) -> text.append("\n  ")
                .append(name)
                .append(" = ")
                .append(def.keys().get(name).secret() || looksSecret(name) ? MASK : value));
        passthrough.forEach((name, value) -> text.append("\n  ")
                .append(def.passthroughPrefix())
                .append(name)
                .append(" = ")
                .append(looksSecret(name) ? MASK : value));
        return text.toString();
    }
}
