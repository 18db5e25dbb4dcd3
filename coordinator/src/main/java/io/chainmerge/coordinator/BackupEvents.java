package io.chainmerge.coordinator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import io.chainmerge.common.campaign.BackupRequest.Kind;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.Schema;
import io.cloudevents.CloudEvent;
import io.cloudevents.core.message.MessageReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * The CloudEvents vocabulary between chainmerge and backup systems (docs/backup-integration.md), and
 * the one place an incoming event is read and checked. Every type starts with {@link #PREFIX}.
 */
final class BackupEvents {
    static final String PREFIX = "io.chainmerge.";
    static final String CHECKPOINT_RELEASED = PREFIX + "backup.checkpoint.released";
    static final String CLEANUP_REQUESTED = PREFIX + "backup.chain.cleanup-requested";
    static final String MERGE_OUTCOME = PREFIX + "merge.";
    static final String REQUEST_INVALID = PREFIX + "backup.request.invalid";
    /** The extension attribute that carries a request's id on its notification (extension names are lower-case letters and digits). */
    static final String CORRELATION_ID = "correlationid";

    static final int MIN_PRIORITY = 0;
    static final int MAX_PRIORITY = 9;

    /** {@code checkpoint.released}: merge {@code disk} into its parent. Exactly one of pool and host. */
    record CheckpointReleased(String pool, String host, String disk, Instant deadline, Integer priority) {}

    /** {@code chain.cleanup-requested}: merge every chain below {@code folder} down to its root. */
    record CleanupRequested(String pool, String host, String folder, Instant deadline, Integer priority) {}

    private final JsonCodec json;
    private final Function<String, Optional<String>> poolOfHost;

    /** @param poolOfHost the pool a worker serves, from the inventory */
    BackupEvents(JsonCodec json, Function<String, Optional<String>> poolOfHost) {
        this.json = json;
        this.poolOfHost = poolOfHost;
    }

    /** Reads an event in either content mode (the reader tells them apart by its content type). */
    BackupEvent read(MessageReader reader) throws InvalidBackupEvent {
        CloudEvent event;
        try {
            event = reader.toEvent();
        } catch (RuntimeException e) {
            // The SDK's readers fail in several ways (CloudEventRWException, EventDeserializationException for a
            // structured event that is not JSON, IllegalStateException): all of them mean the same here.
            throw new InvalidBackupEvent(
                    "not-a-cloudevent", "not a CloudEvent: " + e.getMessage(), null, null, null, null);
        }
        return check(event);
    }

    BackupEvent check(CloudEvent event) throws InvalidBackupEvent {
        String type = event.getType();
        String source = event.getSource() == null ? null : event.getSource().toString();
        String id = event.getId();
        if (source == null || source.isBlank() || id == null || id.isBlank()) {
            throw new InvalidBackupEvent(
                    "not-a-cloudevent", "the event has no source or no id", type, source, id, null);
        }
        String requestId = requestId(source, id);
        Kind kind;
        if (CHECKPOINT_RELEASED.equals(type)) {
            kind = Kind.CHECKPOINT_RELEASED;
        } else if (CLEANUP_REQUESTED.equals(type)) {
            kind = Kind.CLEANUP_REQUESTED;
        } else {
            throw new InvalidBackupEvent(
                    "unknown-type",
                    "unknown event type " + type + "; chainmerge takes " + CHECKPOINT_RELEASED + " and "
                            + CLEANUP_REQUESTED,
                    type,
                    source,
                    id,
                    requestId);
        }
        Invalid invalid = message -> new InvalidBackupEvent("invalid-data", message, type, source, id, requestId);
        String contentType = event.getDataContentType();
        if (contentType != null && !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw invalid.because("the data must be application/json, not " + contentType);
        }
        if (event.getData() == null) {
            throw invalid.because("the event has no data");
        }
        byte[] data = event.getData().toBytes();
        try {
            if (kind == Kind.CHECKPOINT_RELEASED) {
                CheckpointReleased released = readData(data, CheckpointReleased.class, invalid);
                String pool = pool(released.pool(), released.host(), invalid, type, source, id, requestId);
                return new BackupEvent(
                        requestId,
                        kind,
                        source,
                        id,
                        pool,
                        released.host(),
                        path(released.disk(), "disk", invalid),
                        null,
                        released.deadline(),
                        priority(released.priority(), invalid));
            }
            CleanupRequested cleanup = readData(data, CleanupRequested.class, invalid);
            String pool = pool(cleanup.pool(), cleanup.host(), invalid, type, source, id, requestId);
            return new BackupEvent(
                    requestId,
                    kind,
                    source,
                    id,
                    pool,
                    cleanup.host(),
                    null,
                    path(cleanup.folder(), "folder", invalid),
                    cleanup.deadline(),
                    priority(cleanup.priority(), invalid));
        } catch (IllegalArgumentException e) {
            throw invalid.because(e.getMessage());
        }
    }

    /** The request an event is: the same (source, id) is the same request, however often delivered. */
    /**
     * A valid event from a source this coordinator does not know (security.backup-sources, backup-system
     * principals): refused, so no standing campaign is made for whoever can name a new source.
     */
    static InvalidBackupEvent unknownSource(BackupEvent event) {
        String type = event.kind() == Kind.CHECKPOINT_RELEASED ? CHECKPOINT_RELEASED : CLEANUP_REQUESTED;
        return new InvalidBackupEvent(
                "unknown-source",
                "source " + event.source() + " is not configured: add it to security.backup-sources or bind a "
                        + "backup-system principal to it (docs/security.md)",
                type,
                event.source(),
                event.eventId(),
                event.requestId());
    }

    static String requestId(String source, String id) {
        return "br-" + hash(source + "\n" + id, 12);
    }

    /** The standing campaign of one backup system (one event source). */
    static String campaignId(String source) {
        String slug =
                source.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-+|-+$)", "");
        if (slug.length() > 40) {
            slug = slug.substring(slug.length() - 40);
        }
        return "backup-" + (slug.isEmpty() ? "" : slug + "-") + hash(source, 4);
    }

    static String hash(String text, int bytes) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @FunctionalInterface
    private interface Invalid {
        InvalidBackupEvent because(String message);
    }

    private <T> T readData(byte[] data, Class<T> type, Invalid invalid) throws InvalidBackupEvent {
        try {
            T value = json.mapper().readValue(data, type);
            if (value == null) {
                throw invalid.because("the data is JSON null");
            }
            return value;
        } catch (ValueInstantiationException e) {
            throw invalid.because(e.getCause() != null ? e.getCause().getMessage() : e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw invalid.because("the data is not a valid " + type.getSimpleName() + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw invalid.because("the data is unreadable: " + e.getMessage());
        }
    }

    private String pool(
            String pool, String host, Invalid invalid, String type, String source, String id, String requestId)
            throws InvalidBackupEvent {
        if ((pool == null) == (host == null)) {
            throw invalid.because("name either the pool or the host whose workers see the files");
        }
        if (pool != null) {
            return Schema.poolName(pool, "pool");
        }
        return poolOfHost
                .apply(host)
                .orElseThrow(() -> new InvalidBackupEvent(
                        "unknown-host",
                        "no worker named " + host + " has reported an inventory; name the pool instead",
                        type,
                        source,
                        id,
                        requestId));
    }

    /** An absolute, normalised path: {@code ..} and {@code .} would let one file go by two names. */
    private static String path(String value, String field, Invalid invalid) throws InvalidBackupEvent {
        if (value == null || value.isBlank()) {
            throw invalid.because(field + " is required");
        }
        if (!value.startsWith("/") || value.indexOf('\0') >= 0) {
            throw invalid.because(field + " must be an absolute path: " + value);
        }
        String normal = Path.of(value).normalize().toString();
        if (!normal.equals(
                value.length() > 1 && value.endsWith("/") ? value.substring(0, value.length() - 1) : value)) {
            throw invalid.because(field + " must not contain . or .. or //: " + value);
        }
        return normal;
    }

    private static int priority(Integer priority, Invalid invalid) throws InvalidBackupEvent {
        if (priority == null) {
            return MIN_PRIORITY;
        }
        if (priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
            throw invalid.because("priority is " + MIN_PRIORITY + " to " + MAX_PRIORITY + ", not " + priority);
        }
        return priority;
    }
}
