package io.chainmerge.common.security;

/**
 * A transfer capability that does not open what was asked: missing, malformed, signed by a key this
 * worker does not trust, expired, or for another job, worker, file or verb. Nothing was read or sent.
 */
public final class CapabilityException extends SecurityException {
    private final boolean missing;

    public CapabilityException(String message) {
        this(message, false);
    }

    private CapabilityException(String message, boolean missing) {
        super(message);
        this.missing = missing;
    }

    public static CapabilityException missing(String message) {
        return new CapabilityException(message, true);
    }

    /** No capability was presented at all (HTTP 401), rather than one that does not open this (403). */
    public boolean missing() {
        return missing;
    }
}
