package io.chainmerge.disk.io;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** SHA-256, as transplants check what they copied: lower-case hex of a file's bytes. */
public final class Sha256 {
    private Sha256() {}

    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this Java has no SHA-256", e);
        }
    }
}
