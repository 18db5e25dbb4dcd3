package io.chainmerge.worker;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The secret workers share to pull each other's files (setting {@code transfer.token}). Never printed;
 * compared in constant time, so a caller cannot learn it a byte at a time from response times.
 */
public record TransferToken(String value) {
    public TransferToken {
        value = value == null ? "" : value;
    }

    /** No token set: this worker serves no transfers and cannot ask for any. */
    public boolean isEmpty() {
        return value.isEmpty();
    }

    /** Whether {@code presented} is the token; always false when none is set. */
    public boolean matches(String presented) {
        if (isEmpty() || presented == null) {
            return false;
        }
        return MessageDigest.isEqual(
                value.getBytes(StandardCharsets.UTF_8), presented.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return isEmpty() ? "(none)" : "******";
    }
}
