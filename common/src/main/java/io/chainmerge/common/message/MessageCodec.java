package io.chainmerge.common.message;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import io.chainmerge.common.json.JsonCodec;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;

/**
 * Reads and writes messages with the one {@link JsonCodec}; reading validates (each record's
 * constructor checks its fields and schema version) and turns every failure into a {@link
 * MalformedMessageException} that says what is wrong.
 */
public final class MessageCodec {
    private final JsonCodec json;

    public MessageCodec(JsonCodec json) {
        this.json = json;
    }

    public JsonCodec json() {
        return json;
    }

    public byte[] write(Object message) {
        return json.write(message).getBytes(StandardCharsets.UTF_8);
    }

    public <T> T read(byte[] bytes, Class<T> type) throws MalformedMessageException {
        if (bytes == null) {
            throw new MalformedMessageException("the record has no value", null);
        }
        try {
            T value = json.mapper().readValue(bytes, type);
            if (value == null) {
                throw new MalformedMessageException("the record's value is JSON null", null);
            }
            return value;
        } catch (ValueInstantiationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new MalformedMessageException("invalid " + simpleName(type) + ": " + cause.getMessage(), e);
        } catch (JsonMappingException e) {
            String where = e.getPath().stream()
                    .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining("."));
            throw new MalformedMessageException(
                    "not a valid " + simpleName(type) + (where.isEmpty() ? "" : " (at " + where + ")") + ": "
                            + e.getOriginalMessage(),
                    e);
        } catch (JsonProcessingException e) {
            throw new MalformedMessageException("not a " + simpleName(type) + ": " + e.getOriginalMessage(), e);
        } catch (java.io.IOException e) {
            throw new MalformedMessageException("unreadable: " + e.getMessage(), e);
        }
    }

    public Job readJob(byte[] bytes) throws MalformedMessageException {
        return read(bytes, Job.class);
    }

    /** A text field of a record that may not be a valid message, for dead letters; null when absent. */
    public String peek(byte[] bytes, String field) {
        try {
            JsonNode node = json.mapper().readTree(bytes);
            JsonNode value = node == null ? null : node.get(field);
            return value != null && value.isTextual() ? value.asText() : null;
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    private static String simpleName(Class<?> type) {
        return switch (type.getSimpleName()) {
            case "Job" -> "job";
            default -> type.getSimpleName();
        };
    }
}
