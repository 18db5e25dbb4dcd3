package io.chainmerge.common.message;

/** A record is not a valid chainmerge message; the message says why, for the dead-letter topic. */
public final class MalformedMessageException extends Exception {
    public MalformedMessageException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
