package io.chainmerge.common.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.cfg.MapperBuilder;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The one JSON configuration of chainmerge: messages on Kafka, HTTP bodies and {@code --json} output
 * all use it. Paths are plain strings, times and durations ISO-8601, unknown properties are errors.
 */
public final class JsonCodec {
    /**
     * Built on first use: Jackson's modules took about a third of the start-up of a command that prints
     * no JSON ({@code chainmerge --version}, most commands without {@code --json}).
     */
    private volatile Mappers mappers;

    private record Mappers(ObjectMapper json, ObjectMapper yaml) {}

    private Mappers mappers() {
        Mappers built = mappers;
        if (built == null) {
            synchronized (this) {
                built = mappers;
                if (built == null) {
                    built = build();
                    mappers = built;
                }
            }
        }
        return built;
    }

    private static Mappers build() {
        SimpleModule paths = new SimpleModule("chainmerge-paths");
        paths.addSerializer(Path.class, new StdSerializer<>(Path.class) {
            @Override
            public void serialize(Path value, JsonGenerator generator, SerializerProvider provider) throws IOException {
                generator.writeString(value.toString());
            }
        });
        // Campaign specs and configuration files are YAML (a superset of JSON), read with the same rules.
        return new Mappers(
                configure(JsonMapper.builder(), paths).build(),
                configure(YAMLMapper.builder(), paths).build());
    }

    private static <M extends ObjectMapper, B extends MapperBuilder<M, B>> B configure(B builder, SimpleModule paths) {
        return builder.addModule(new JavaTimeModule())
                .addModule(new Jdk8Module())
                .addModule(paths)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    }

    /** The same configuration for YAML (and so JSON) text written by people: specs and configuration files. */
    public ObjectMapper yaml() {
        return mappers().yaml();
    }

    public ObjectMapper mapper() {
        return mappers().json();
    }

    public String write(Object value) {
        try {
            return mapper().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    "cannot write " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }

    public String writePretty(Object value) {
        try {
            return mapper().writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    "cannot write " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }
}
