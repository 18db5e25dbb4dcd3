package io.chainmerge.coordinator;

/**
 * A backup event chainmerge cannot act on, with a stable reason word: {@code not-a-cloudevent} (not
 * readable as a CloudEvent in either content mode), {@code unknown-type}, {@code invalid-data} (the
 * data is not the type's JSON, or a field is wrong) or {@code unknown-host} (no worker of that name
 * has reported an inventory). The backup system hears of it on the notifications topic.
 *
 * @param requestId the request id when the event had a source and an id, else null
 */
final class InvalidBackupEvent extends Exception {
    private final String reason;
    private final String type;
    private final String source;
    private final String eventId;
    private final String requestId;

    InvalidBackupEvent(String reason, String message, String type, String source, String eventId, String requestId) {
        super(message);
        this.reason = reason;
        this.type = type;
        this.source = source;
        this.eventId = eventId;
        this.requestId = requestId;
    }

    String reason() {
        return reason;
    }

    String type() {
        return type;
    }

    String source() {
        return source;
    }

    String eventId() {
        return eventId;
    }

    String requestId() {
        return requestId;
    }
}
